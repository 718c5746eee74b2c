/** One rule a Dockerfile breaks. */
export interface DockerfileFinding {
  /** Rule id, e.g. `non-root`. */
  readonly rule: string;
  /** 1-based line, when the finding points at one. */
  readonly line?: number;
  readonly message: string;
}

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly name?: string;
  readonly image: string;
  readonly line: number;
  readonly instructions: Instruction[];
}

/** Splits a Dockerfile into instructions, joining `\` continuations and dropping comments. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buffer && (line === '' || line.startsWith('#'))) return;
    if (!buffer) start = i + 1;
    buffer += `${line.replace(/\\$/, '')} `;
    if (line.endsWith('\\')) return;
    const match = /^(\w+)\s+(.*)$/.exec(buffer.trim());
    if (match) out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start });
    buffer = '';
  });
  return out;
}

/**
 * Splits instructions into stages. `FROM ${NODE_IMAGE}` takes the default of an `ARG` declared
 * before the first `FROM` (the only ARGs a FROM line can see); an ARG without a default stays
 * `${NAME}`, which `pinned-base` then reports.
 *
 * @see https://docs.docker.com/reference/dockerfile/#understand-how-arg-and-from-interact
 */
function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  const globalArgs = new Map<string, string>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(ins.args)!;
      const image = m[1]!.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (ref, a?: string, b?: string) => globalArgs.get((a ?? b)!) ?? ref,
      );
      out.push({ image, ...(m[2] ? { name: m[2] } : {}), line: ins.line, instructions: [] });
    } else if (out.length === 0 && ins.keyword === 'ARG') {
      const arg = /^(\w+)(?:=(\S+))?/.exec(ins.args);
      if (arg?.[2]) globalArgs.set(arg[1]!, arg[2].replace(/^(["'])(.*)\1$/, '$2'));
    } else {
      out.at(-1)?.instructions.push(ins);
    }
  }
  return out;
}

/** Options of {@link lintDockerfile}. */
export interface DockerfileLintOptions {
  /**
   * The build target (`docker build --target`) to check as the final stage: the stages up to it
   * are the ones BuildKit builds for it.
   *
   * @default - the last stage, the default target
   */
  readonly target?: string;
}

/**
 * Checks a service Dockerfile against the platform's rules, without a Docker engine.
 *
 * Rules: `multi-stage` (a build stage apart from the runtime stage), `pinned-base` (every image has a
 * version tag or digest, never `latest`), `non-root` (the final stage sets `USER` to someone other than
 * root/0), `prod-deps` (node_modules reaching the final stage come from `npm ci --omit=dev`, and the final
 * stage installs nothing with dev dependencies), `probes` (a HEALTHCHECK, or a `# Probes:` comment that
 * documents the Kubernetes probes), `exec-cmd` (CMD/ENTRYPOINT in exec form so SIGTERM reaches node),
 * `no-secrets` (no ENV/ARG named like a secret), `no-remote-add` (no `ADD <url>`).
 *
 * @see https://docs.docker.com/build/building/best-practices/
 */
export function lintDockerfile(text: string, options: DockerfileLintOptions = {}): DockerfileFinding[] {
  const findings: DockerfileFinding[] = [];
  const all = parse(text);
  let list = stages(all);
  if (options.target !== undefined) {
    const index = list.findIndex((s) => s.name === options.target);
    if (index < 0) return [{ rule: 'target', message: `no stage named ${options.target}` }];
    list = list.slice(0, index + 1);
  }
  const final = list.at(-1);
  if (!final) return [{ rule: 'multi-stage', message: 'no FROM instruction' }];
  if (list.length < 2)
    findings.push({
      rule: 'multi-stage',
      line: final.line,
      message: 'use a build stage and a runtime stage',
    });
  const names = new Set(list.map((s) => s.name).filter(Boolean));
  for (const s of list) {
    if (names.has(s.image)) continue;
    if (!/[:@]/.test(s.image.replace(/^[^/]*:\d+\//, '')) || /:latest$/.test(s.image)) {
      findings.push({
        rule: 'pinned-base',
        line: s.line,
        message: `base image ${s.image} must be pinned to a version`,
      });
    }
  }
  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1);
  if (!user || /^(root|0)(:|$)/.test(user.args)) {
    findings.push({
      rule: 'non-root',
      line: user?.line ?? final.line,
      message: 'the final stage must set USER to a non-root user',
    });
  }
  const installsDev = (i: Instruction): boolean =>
    i.keyword === 'RUN' &&
    /\bnpm (ci|install|i)\b/.test(i.args) &&
    !/--omit[= ]dev|--production\b/.test(i.args);
  for (const i of final.instructions.filter(installsDev)) {
    findings.push({
      rule: 'prod-deps',
      line: i.line,
      message: 'the final stage installs dev dependencies; use npm ci --omit=dev',
    });
  }
  for (const copy of final.instructions.filter((i) => i.keyword === 'COPY')) {
    const from = /--from=(\S+)/.exec(copy.args)?.[1];
    const source = list.find((s) => s.name === from);
    const bringsModules = /node_modules|^(--\S+\s+)*\/app\s+\/app$/.test(copy.args);
    if (source && bringsModules && source.instructions.some(installsDev)) {
      findings.push({
        rule: 'prod-deps',
        line: copy.line,
        message: `node_modules copied from stage ${from}, which installs dev dependencies`,
      });
    }
  }
  if (!final.instructions.some((i) => i.keyword === 'HEALTHCHECK') && !/^#\s*probes:/im.test(text)) {
    findings.push({
      rule: 'probes',
      message: 'add a HEALTHCHECK or document the probes in a "# Probes:" comment',
    });
  }
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT').at(-1);
  if (!cmd || !cmd.args.startsWith('[')) {
    findings.push({
      rule: 'exec-cmd',
      line: cmd?.line ?? final.line,
      message: 'CMD must use exec form ["node", "..."]',
    });
  }
  for (const i of all.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
    if (/\b\w*(PASSWORD|SECRET|TOKEN|API_KEY)\w*\s*=/i.test(i.args)) {
      findings.push({
        rule: 'no-secrets',
        line: i.line,
        message: 'secrets must come from the runtime env, not the image',
      });
    }
  }
  for (const i of all.filter((x) => x.keyword === 'ADD' && /https?:\/\//.test(x.args))) {
    findings.push({
      rule: 'no-remote-add',
      line: i.line,
      message: 'ADD <url> is not reproducible; download in a RUN with a checksum',
    });
  }
  return findings;
}
