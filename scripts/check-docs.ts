/**
 * CI check: every TypeScript example in README.md and docs/*.md compiles
 * against the built package, so the docs never show an API that is gone.
 *
 * `npm run check:docs`, after `npm run build`. Each ```ts / ```typescript
 * block becomes a module of its own in a temporary folder inside the
 * repository, where `libp2p-raft` resolves to this package through its own
 * `exports` map (to `dist/`) and every other import to the repository's
 * `node_modules`. A block whose first line is `// not compiled` is skipped:
 * keep that for fragments that cannot stand alone. Type errors are reported
 * at the Markdown file and line they come from; exits 1 if there are any.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'

const ROOT = join(import.meta.dirname, '..')
const OPT_OUT = '// not compiled'
const FENCE_OPEN = /^```(ts|typescript)\s*$/i
const FENCE_CLOSE = /^```\s*$/

/** One fenced block: where it starts in its Markdown file, and its code. */
interface Block { markdown: string, fenceLine: number, code: string }

/** Every TypeScript block of a Markdown file, opted-out ones left out. */
function extractBlocks (markdown: string, text: string): Block[] {
  const blocks: Block[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE_OPEN.test(lines[i])) { continue }
    const fenceLine = i + 1
    const code: string[] = []
    for (i++; i < lines.length && !FENCE_CLOSE.test(lines[i]); i++) { code.push(lines[i]) }
    if (code[0]?.trim() !== OPT_OUT) { blocks.push({ markdown, fenceLine, code: code.join('\n') }) }
  }
  return blocks
}

async function markdownFiles (): Promise<string[]> {
  const docs = existsSync(join(ROOT, 'docs')) ? await readdir(join(ROOT, 'docs')) : []
  return ['README.md', ...docs.filter(name => name.endsWith('.md')).sort().map(name => `docs/${name}`)]
}

if (!existsSync(join(ROOT, 'dist/src/index.d.ts'))) {
  process.stderr.write('dist/ is missing: run npm run build first\n')
  process.exit(1)
}

const blocks: Block[] = []
for (const markdown of await markdownFiles()) {
  blocks.push(...extractBlocks(markdown, await readFile(join(ROOT, markdown), 'utf8')))
}

// inside the repository, so that its package.json (self-reference) and node_modules apply
const folder = await mkdtemp(join(ROOT, '.tmp-check-docs-'))
try {
  const sources = new Map<string, Block>()
  for (const block of blocks) {
    const name = `${block.markdown.replaceAll('/', '-')}-${block.fenceLine}.ts`
    sources.set(name, block)
    // `export {}` makes every block a module, so top-level await and names stay its own
    await writeFile(join(folder, name), `${block.code}\nexport {}\n`)
  }
  await writeFile(join(folder, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      target: 'ES2024',
      lib: ['ES2024', 'DOM'],
      module: 'node16',
      moduleResolution: 'node16',
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node']
    },
    files: [...sources.keys()]
  }))

  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc')
  const output = await promisify(execFile)(tsc, ['-p', folder, '--pretty', 'false'], { cwd: folder })
    .then(() => '', (err: { stdout?: string, message: string }) => err.stdout ?? err.message)

  // tsc prints `file.ts(line,col): error TSxxxx: message`; point at the Markdown instead
  const errors = output.split('\n').filter(line => line.trim() !== '').map(line => {
    const match = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line)
    const block = match === null ? undefined : sources.get(relative(folder, join(folder, match[1])))
    if (match === null || block === undefined) { return line }
    return `${block.markdown}:${block.fenceLine + Number(match[2])}:${match[3]}: ${match[4]}`
  })
  if (errors.length > 0) {
    process.stderr.write(errors.join('\n') + '\n')
    process.stderr.write(`the examples in the docs do not compile (a fragment may opt out with "${OPT_OUT}" as its first line)\n`)
    process.exitCode = 1
  } else {
    process.stdout.write(`${blocks.length} TypeScript blocks in the docs compile\n`)
  }
} finally {
  await rm(folder, { recursive: true, force: true })
}
