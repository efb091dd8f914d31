// Writes openapi.yaml from the route schemas of a built (never listening) app: npm run openapi
import { writeFileSync } from 'node:fs'
import { buildApp } from '../src/app.js'
import { openDatabase } from '../src/db/client.js'
import { testConfig } from '../src/config.test-support.js'
import { renderOpenApiYaml } from '../src/plugins/openapi-yaml.js'

const database = await openDatabase({})
const app = await buildApp({ config: testConfig({ workers: false }), db: database.db, logger: false })
await app.ready()
writeFileSync(new URL('../openapi.yaml', import.meta.url), renderOpenApiYaml(app.swagger()))
await app.close()
await database.close()
console.log('openapi.yaml written')
