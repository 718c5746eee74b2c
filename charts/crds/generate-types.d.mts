/** One generated file: the schema it comes from, the file it writes, the interface it declares. */
export interface GeneratedEntry {
  readonly schema: string;
  readonly out: string;
  readonly name: string;
}

/** The files `npm run generate:crd-types` writes, relative to `charts/crds/`. */
export declare const GENERATED: readonly GeneratedEntry[];

/** The text of one generated file. */
export declare function generate(entry: GeneratedEntry): Promise<string>;
