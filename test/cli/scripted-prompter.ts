import { CANCELLED, type Prompter } from '../../templates/prompter.js';

/** One question as the scripted user saw it. */
export interface Asked {
  readonly kind: 'text' | 'select' | 'confirm';
  readonly message: string;
  readonly reply: string | boolean;
  /** What the prompt's validation said about the reply (it then asks again). */
  readonly refused?: string;
}

/**
 * A {@link Prompter} that replays `replies` in order, the way @clack/prompts behaves: a text reply
 * that `validate` refuses is shown the problem and asked again (the next reply), an empty reply
 * takes the default, a select reply must be one of the options, and {@link CANCELLED} is Ctrl-C.
 */
export function scriptedPrompter(replies: (string | boolean | typeof CANCELLED)[]) {
  const asked: Asked[] = [];
  const notes: { title: string; message: string }[] = [];
  const next = (message: string) => {
    if (replies.length === 0) throw new Error(`no scripted reply for '${message}'`);
    return replies.shift()!;
  };
  const prompter: Prompter = {
    text: async (o) => {
      for (;;) {
        const r = next(o.message);
        if (r === CANCELLED) return CANCELLED;
        const value = r === '' ? (o.defaultValue ?? '') : String(r);
        const refused = o.validate?.(value);
        asked.push({ kind: 'text', message: o.message, reply: value, refused });
        if (!refused) return value;
      }
    },
    select: async (o) => {
      const r = next(o.message);
      if (r === CANCELLED) return CANCELLED;
      const option = o.options.find((x) => x.value === r);
      if (!option) throw new Error(`'${String(r)}' is not an option of '${o.message}'`);
      asked.push({ kind: 'select', message: o.message, reply: option.value });
      return option.value;
    },
    confirm: async (o) => {
      const r = next(o.message);
      if (r === CANCELLED) return CANCELLED;
      asked.push({ kind: 'confirm', message: o.message, reply: Boolean(r) });
      return Boolean(r);
    },
    note: (message, title) => void notes.push({ title, message }),
  };
  return { prompter, asked, notes, replies };
}
