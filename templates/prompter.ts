/**
 * The terminal questions `aio new service` asks, as an interface: the CLI implements it with
 * @clack/prompts (select lists, validation as the user types, Ctrl-C), tests with scripted replies.
 *
 * A prompt that the user cancels (Ctrl-C, Escape) resolves to {@link CANCELLED}; the caller stops
 * without writing anything and the CLI exits 130.
 *
 * @see https://bomb.sh/docs/clack/packages/prompts/
 */
export interface Prompter {
  /**
   * One line of text. `validate` runs on every submit; while it returns a message the prompt shows
   * it and keeps asking, so a refused answer is never lost at the end of the session.
   */
  text(options: TextPrompt): Promise<string | typeof CANCELLED>;
  /** One of a fixed set of choices, as a select list. */
  select<T extends string>(options: SelectPrompt<T>): Promise<T | typeof CANCELLED>;
  /** Yes or no. */
  confirm(options: {
    readonly message: string;
    readonly initialValue?: boolean;
  }): Promise<boolean | typeof CANCELLED>;
  /** A block of text shown to the user (the summary before anything is written). */
  note(message: string, title: string): void;
}

/** Options of {@link Prompter.text}. */
export interface TextPrompt {
  readonly message: string;
  /** Shown greyed out while the field is empty. */
  readonly placeholder?: string;
  /** The answer when the user submits an empty line. */
  readonly defaultValue?: string;
  /** Pre-filled, editable text (a suggested correction). */
  readonly initialValue?: string;
  /** The problem with `value` (already defaulted), or `undefined` to accept it. */
  readonly validate?: (value: string) => string | undefined;
}

/** Options of {@link Prompter.select}. */
export interface SelectPrompt<T extends string> {
  readonly message: string;
  readonly options: readonly { readonly value: T; readonly label?: string; readonly hint?: string }[];
  readonly initialValue?: T;
}

/** What a cancelled prompt resolves to. */
export const CANCELLED: unique symbol = Symbol('cancelled');

/** Thrown when the user cancels a prompt: nothing was written, and the CLI exits 130 quietly. */
export class PromptCancelled extends Error {
  constructor(message = 'cancelled; nothing was written') {
    super(message);
    this.name = 'PromptCancelled';
  }
}

/** The value of a prompt, or throws {@link PromptCancelled} when it was cancelled. */
export function answered<T>(value: T | typeof CANCELLED): T {
  if (value === CANCELLED) throw new PromptCancelled();
  return value;
}

/**
 * The @clack/prompts implementation, drawing on stderr so stdout stays for results.
 * Loaded only when a person is at the terminal.
 */
export async function clackPrompter(): Promise<Prompter> {
  const clack = await import('@clack/prompts');
  const output = process.stderr;
  const settle = <T>(v: unknown): T | typeof CANCELLED => (clack.isCancel(v) ? CANCELLED : (v as T));
  return {
    text: async (o) =>
      settle<string>(
        await clack.text({
          message: o.message,
          placeholder: o.placeholder,
          defaultValue: o.defaultValue,
          initialValue: o.initialValue,
          output,
          validate: o.validate
            ? (v) => o.validate!(v === undefined || v === '' ? (o.defaultValue ?? '') : v)
            : undefined,
        }),
      ),
    select: async <T extends string>(o: SelectPrompt<T>) =>
      settle<T>(
        await clack.select<T>({
          message: o.message,
          // clack's Option type is conditional on T; the shape is the same.
          options: o.options.map((x) => ({ ...x })) as Parameters<typeof clack.select<T>>[0]['options'],
          initialValue: o.initialValue,
          output,
        }),
      ),
    confirm: async (o) => settle<boolean>(await clack.confirm({ ...o, output })),
    note: (message, title) => clack.note(message, title, { output }),
  };
}
