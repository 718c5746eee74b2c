/**
 * The shell commands of a Markdown file's fenced `sh` blocks, as a shell would read them: `\`
 * continues a line, `#` starts a comment outside quotes, `&&` chains commands, and quotes group
 * words. Enough shell for a README; anything fancier (pipes, `;`, `$(...)`, redirects) is reported
 * so the README stays plain.
 */

/** One command of a README block. */
export interface ReadmeCommand {
  /** 1-based line of the README where the command starts. */
  readonly line: number;
  /** The command as written (continuations joined, comment dropped). */
  readonly text: string;
  /** Its words, quotes removed. */
  readonly words: readonly string[];
}

/** One fenced `sh` block: its commands run in order, in one shell (a `cd` carries on). */
export interface ReadmeBlock {
  /** The nearest heading above the block. */
  readonly heading: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly commands: readonly ReadmeCommand[];
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

/** The fenced shell blocks of `markdown`, in order. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const heading_ = /^#{1,6}\s+(.*)$/.exec(lines[i]!);
    if (heading_) heading = heading_[1]!.trim();
    const fence = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!fence) continue;
    const start = i;
    const body: { line: number; text: string }[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith(fence[1]!); i++) {
      body.push({ line: i + 1, text: lines[i]! });
    }
    if (SHELL_LANGUAGES.has(fence[2]!)) blocks.push({ heading, line: start + 1, commands: commandsOf(body) });
  }
  return blocks;
}

/** Splits block lines into commands: joins `\` continuations, drops comments, splits on `&&`. */
export function commandsOf(body: readonly { line: number; text: string }[]): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!.line;
    let text = body[i]!.text;
    while (/\\\s*$/.test(text) && i + 1 < body.length)
      text = text.replace(/\s*\\\s*$/, ' ') + body[++i]!.text.trim();
    for (const part of splitWords(text)) commands.push({ line, ...part });
  }
  return commands;
}

/** The words of one line, split into `&&`-chained commands; throws on shell syntax a README should not need. */
export function splitWords(line: string): { text: string; words: string[] }[] {
  const commands: { text: string; words: string[] }[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let start = 0;
  let quote: '"' | "'" | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (end: number) => {
    endWord();
    if (words.length) commands.push({ text: line.slice(start, end).trim(), words });
    words = [];
  };
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '#' && word === undefined) {
      break; // a comment: `#` at the start of a word
    } else if (/\s/.test(c)) {
      endWord();
    } else if (line.startsWith('&&', i)) {
      endCommand(i);
      start = i + 2;
      i++;
    } else if ('|;<>`$()'.includes(c)) {
      throw new Error(`'${c}' in \`${line.trim()}\`: README commands are plain commands chained with &&`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in \`${line.trim()}\``);
  endCommand(i);
  return commands;
}
