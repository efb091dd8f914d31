import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'

// The generated resolver types and client documents are committed; a schema change without
// `npm run codegen` would leave the resolvers checked against the old schema.
t.test('src/graphql/generated.ts and examples/graphql-client/gql are what `npm run codegen` writes', async (t) => {
  const root = new URL('..', import.meta.url).pathname
  const { generate } = await import('@graphql-codegen/cli')
  const { default: config } = await import('../codegen.js')
  const files = await generate({ ...config, cwd: root, silent: true }, false) as Array<{ filename: string, content: string }>
  t.ok(files.length >= 2)
  for (const file of files) {
    const committed = await readFile(join(root, file.filename), 'utf8').catch(() => '(missing)')
    t.ok(committed === file.content, `${file.filename} is up to date (run npm run codegen)`)
  }
  const clientFiles = await readdir(join(root, 'examples/graphql-client/gql'))
  t.same(clientFiles.sort(), files.filter((f) => f.filename.startsWith('examples/')).map((f) => f.filename.split('/').pop()).sort(), 'no stray generated files')
})
