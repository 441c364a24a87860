import { spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import AdmZip from 'adm-zip'
import { parse } from 'csv-parse/sync'
import { beforeAll, describe, expect, it } from 'vitest'
import { Workspace } from '../../src-main/core/workspace'
import { folderSnapshot } from '../helpers/cliChecks'
import { connect, helloRoundTrip, runBroker } from '../helpers/fleet'
import { runUntilEcho, seedScript } from '../helpers/seedScripts'
import { PROJECT_ROOT, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

const DEVICES = 1_000
/** Every tenth device authenticates with its device key; the others get a certificate each. */
const isToken = (index: number) => index % 10 === 0
const deviceIdOf = (index: number) => `meter-${String(index).padStart(5, '0')}`

function fleetCsv(count: number, prefix = 'meter'): string {
  const lines = ['name,device_id,auth']
  for (let index = 0; index < count; index++) {
    lines.push(`Water meter ${index},${prefix}-${String(index).padStart(5, '0')},${isToken(index) ? 'token' : 'cert'}`)
  }
  return `${lines.join('\n')}\n`
}

let folder: string
let dataDir: string
let csvPath: string
let outDir: string
let first: { code: number; stdout: string; stderr: string }

async function initialised(name: string): Promise<string> {
  const dir = join(folder, name)
  await runCertdeskJson(['--data', dir, 'ca', 'init', '--key-type', 'ec-p256'])
  return dir
}

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-provision-')
  dataDir = await initialised('data')
  csvPath = join(folder, 'devices.csv')
  outDir = join(folder, 'out')
  await writeFile(csvPath, fleetCsv(DEVICES))
  first = await runCertdesk(['--data', dataDir, 'provision', '--csv', csvPath, '--out', outDir, '--include-device-keys'])
}, 300_000)

/** Reads a CSV the way an operator's script would. */
const rowsOf = async (path: string) => parse(await readFile(path), { columns: true }) as Record<string, string>[]

describe(`provisioning ${DEVICES} devices from a CSV, through the CLI as a process`, () => {
  it('creates every device, certificate and binding, and writes a bundle per certificate device', async () => {
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/1000 created, 0 updated, 0 skipped .*; 900 certificate\(s\) issued/)
    // Not a terminal: plain progress lines on stderr.
    expect(first.stderr).toMatch(/^Issuing certificates: \d+\/900 \(\d+%\)$/m)
    const devices = await runCertdeskJson<{ deviceId: string; certificateIds: string[] }[]>(['--data', dataDir, 'device', 'list'])
    expect(devices).toHaveLength(DEVICES)
    expect(devices.filter((device) => device.certificateIds.length === 1)).toHaveLength(900)
    const folders = (await readdir(outDir)).filter((entry) => entry.startsWith('meter-'))
    expect(folders).toHaveLength(900)
    expect(folders).not.toContain(deviceIdOf(0))
    for (const name of ['common.crt', 'common.key', 'root_ca.crt']) {
      await expect(stat(join(outDir, deviceIdOf(1), 'common_certs', name))).resolves.toBeTruthy()
    }
  })

  it('writes a manifest naming each device, its certificate, serial, fingerprint and expiry', async () => {
    const manifest = await rowsOf(join(outDir, 'manifest.csv'))
    expect(manifest).toHaveLength(DEVICES)
    expect(manifest[1]).toMatchObject({ device_id: deviceIdOf(1), username: deviceIdOf(1), auth: 'cert', certificate: deviceIdOf(1) })
    expect(manifest[1].serial).toMatch(/^[0-9A-F]+$/)
    expect(manifest[1].fingerprint_sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(Date.parse(manifest[1].not_after)).toBeGreaterThan(Date.now())
    expect(manifest[0]).toMatchObject({ device_id: deviceIdOf(0), auth: 'token', certificate: '', serial: '' })
    const pem = await readFile(join(outDir, deviceIdOf(1), 'common_certs/common.crt'), 'utf8')
    const fingerprint = await openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem)
    expect(fingerprint).toContain(manifest[1].fingerprint_sha256)
  })

  it('every bundle verifies against its root_ca.crt with openssl, and each key matches its certificate (sampled)', async () => {
    const folders = (await readdir(outDir)).filter((entry) => entry.startsWith('meter-'))
    const root = join(outDir, folders[0], 'common_certs/root_ca.crt')
    for (const entry of folders)
      expect(await readFile(join(outDir, entry, 'common_certs/root_ca.crt'), 'utf8')).toBe(await readFile(root, 'utf8'))
    // One openssl call per 100 certificates: it prints "<file>: OK" for each.
    for (let start = 0; start < folders.length; start += 100) {
      const files = folders.slice(start, start + 100).map((entry) => join(outDir, entry, 'common_certs/common.crt'))
      const output = await openssl(['verify', '-CAfile', root, ...files])
      expect(
        output
          .trim()
          .split('\n')
          .filter((line) => line.endsWith(': OK')),
      ).toHaveLength(files.length)
    }
    for (const entry of folders.filter((_, index) => index % 100 === 0)) {
      const dir = join(outDir, entry, 'common_certs')
      const fromCertificate = await openssl(['x509', '-noout', '-pubkey', '-in', join(dir, 'common.crt')])
      const fromKey = await openssl(['pkey', '-pubout', '-in', join(dir, 'common.key')])
      expect(fromKey).toBe(fromCertificate)
    }
  })

  it('writes keys 0600: every common.key, and device-keys.csv with the token devices’ keys', async () => {
    const keyFile = join(outDir, 'device-keys.csv')
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    expect((await stat(join(outDir, deviceIdOf(1), 'common_certs/common.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(outDir, 'manifest.csv'))).mode & 0o777).toBe(0o644)
    const keys = await rowsOf(keyFile)
    expect(keys).toHaveLength(100)
    expect(keys.map((row) => row.device_id)).toEqual(Array.from({ length: 100 }, (_, index) => deviceIdOf(index * 10)))
    // Without the flag, no device key is written.
    const plain = await runCertdesk(['--data', dataDir, 'provision', '--csv', csvPath, '--out', join(folder, 'plain')])
    expect(plain.code, plain.stderr).toBe(0)
    expect(await readdir(join(folder, 'plain'))).toEqual(['manifest.csv'])
  })

  it('a sample connects to the embedded broker: certificate devices on the mutual port, token devices with their key', async () => {
    const workspace = await Workspace.open(dataDir)
    const broker = await runBroker(workspace)
    const keys = await rowsOf(join(outDir, 'device-keys.csv'))
    try {
      for (const index of [1, 499, 999]) {
        const dir = join(outDir, deviceIdOf(index), 'common_certs')
        const client = await connect(broker.mutual.port, {
          clientId: deviceIdOf(index),
          username: deviceIdOf(index),
          ca: await readFile(join(dir, 'root_ca.crt')),
          cert: await readFile(join(dir, 'common.crt')),
          key: await readFile(join(dir, 'common.key')),
        })
        expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
        await client.endAsync()
      }
      for (const row of keys.slice(0, 3)) {
        const client = await connect(broker.oneWay.port, {
          clientId: row.device_id,
          username: row.username,
          password: row.device_key,
          ca: await readFile(join(outDir, deviceIdOf(1), 'common_certs/root_ca.crt')),
        })
        await client.endAsync()
      }
      // The seed's own paho example, run from a provisioned bundle folder as the seed lays it out.
      const deviceDir = join(outDir, deviceIdOf(7))
      const script = await seedScript(
        'two_way.py',
        [
          ["'ef14be2cfd2f555397bde858750cbda8'", `'${deviceIdOf(7)}'`],
          ["'iot.actorcloud.io'", "'localhost'"],
          ['PORT = 8884', `PORT = ${broker.mutual.port}`],
        ],
        deviceDir,
      )
      const output = await runUntilEcho(script, deviceDir)
      expect(output).toContain('Connected with result code 0')
    } finally {
      await broker.close()
    }
  })

  it('re-running the same file is idempotent: every row is reported and skipped, nothing duplicated', async () => {
    const again = await runCertdeskJson<{ counts: Record<string, number> }>([
      '--data',
      dataDir,
      'provision',
      '--csv',
      csvPath,
      '--out',
      join(folder, 'again'),
    ])
    expect(again.counts).toMatchObject({ create: 0, update: 0, skip: DEVICES, certificates: 0 })
    const text = await runCertdesk(['--data', dataDir, 'provision', '--csv', csvPath, '--dry-run'])
    expect(text.stdout).toContain(`line 2: ${deviceIdOf(0)} exists, skipped`)
    expect(text.stdout).toContain('… and 980 more')
    expect(await runCertdeskJson<unknown[]>(['--data', dataDir, 'device', 'list'])).toHaveLength(DEVICES)
    expect(await runCertdeskJson<unknown[]>(['--data', dataDir, 'cert', 'list'])).toHaveLength(900)
  })

  it('device export --csv and cert list --csv give the registry as a table; device keys only when asked', async () => {
    const exported = await runCertdesk(['--data', dataDir, 'device', 'export', '--csv'])
    expect(exported.code, exported.stderr).toBe(0)
    const devices = parse(exported.stdout, { columns: true }) as Record<string, string>[]
    expect(devices).toHaveLength(DEVICES)
    expect(Object.keys(devices[0])).not.toContain('device_key')
    // One run shares one creation time: find the rows by device ID.
    expect(devices.find((row) => row.device_id === deviceIdOf(1))).toMatchObject({
      device_id: deviceIdOf(1),
      name: 'Water meter 1',
      auth: 'cert',
      certificates: deviceIdOf(1),
    })
    const withKeys = join(folder, 'devices-with-keys.csv')
    const written = await runCertdesk(['--data', dataDir, 'device', 'export', '--csv', '--include-device-keys', '--out', withKeys])
    expect(written.code, written.stderr).toBe(0)
    expect((await stat(withKeys)).mode & 0o777).toBe(0o600)
    const keyed = await rowsOf(withKeys)
    const tokenKeys = await rowsOf(join(outDir, 'device-keys.csv'))
    expect(keyed.find((row) => row.device_id === tokenKeys[0].device_id)?.device_key).toBe(tokenKeys[0].device_key)
    // Keys left the store: the audit log says so, as it does for bundles.
    const audit = (await readFile(join(dataDir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(audit.at(-1)).toMatchObject({ action: 'device.export-keys', actor: 'cli', detail: { devices: DEVICES } })
    const certificates = parse((await runCertdesk(['--data', dataDir, 'cert', 'list', '--csv'])).stdout, { columns: true }) as Record<
      string,
      string
    >[]
    expect(certificates).toHaveLength(900)
    expect(certificates.find((row) => row.name === deviceIdOf(1))).toMatchObject({
      name: deviceIdOf(1),
      status: 'active',
      devices: deviceIdOf(1),
    })
  })
})

/** Starts `certdesk provision` and resolves once it reports certificates being made. */
function startProvisioning(
  args: string[],
): Promise<{ child: ReturnType<typeof spawn>; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/certdesk.mjs'), ...args], {
      env: { ...process.env, CERTDESK_HOME: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let started = false
    const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) =>
      child.on('close', (code, signal) => done({ code, signal, stderr })),
    )
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!started && /"phase":"issuing","done":[1-9]/.test(stderr)) {
        started = true
        resolve({ child, exited })
      }
    })
    void exited.then((result) => {
      if (!started) reject(new Error(`provisioning ended before it issued anything: ${result.stderr}`))
    })
  })
}

describe('a provisioning run that does not finish changes nothing', () => {
  it('a CSV with errors on several lines names each line and writes nothing', async () => {
    const before = await folderSnapshot(dataDir)
    const bad = join(folder, 'bad.csv')
    await writeFile(
      bad,
      [
        'name,device_id,auth,certificate',
        'Fine,fine-device-1,cert,',
        'Dup,meter-00001,cert,',
        ',empty-name-1,token,',
        'Kind,kind-device-1,mqtt,',
        'T,token-dev-01,token,meter-00001',
      ].join('\n'),
    )
    const result = await runCertdesk(['--data', dataDir, 'provision', '--csv', bad, '--out', join(folder, 'bad-out'), '--update'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`bad.csv line 4: The device name is empty`)
    expect(result.stderr).toContain(`bad.csv line 5: Unknown authentication type "mqtt"`)
    expect(result.stderr).toContain(`bad.csv line 6: A token device takes no certificate`)
    expect(result.stderr).toMatch(/certdesk: 3 problem\(s\) in .*bad\.csv; nothing was written\.\n$/)
    expect(await folderSnapshot(dataDir)).toEqual(before)
    await expect(stat(join(folder, 'bad-out'))).rejects.toThrow()
  })

  it('an output that cannot be written is refused before the registry is: the keys are never lost', async () => {
    const before = await folderSnapshot(dataDir)
    const small = join(folder, 'small.csv')
    await writeFile(small, fleetCsv(3, 'nowhere'))
    const zip = await runCertdesk(['--data', dataDir, 'provision', '--csv', small, '--zip', join(folder, 'no-such-folder', 'out.zip')])
    expect(zip.code).toBe(1)
    expect(zip.stderr).toMatch(/no-such-folder/)
    // A file where the output folder's parent should be.
    const out = await runCertdesk(['--data', dataDir, 'provision', '--csv', small, '--out', join(small, 'out')])
    expect(out.code).toBe(1)
    expect(await folderSnapshot(dataDir)).toEqual(before)
  })

  it('kill -9 in the middle leaves the registry loadable and as it was', async () => {
    const killedData = await initialised('killed')
    await runCertdeskJson(['--data', killedData, 'device', 'list'])
    const before = await folderSnapshot(killedData)
    const csv = join(folder, 'killed.csv')
    await writeFile(csv, fleetCsv(3_000, 'valve'))
    const { child, exited } = await startProvisioning([
      '--data',
      killedData,
      '--json',
      'provision',
      '--csv',
      csv,
      '--out',
      join(folder, 'killed-out'),
    ])
    child.kill('SIGKILL')
    expect((await exited).signal).toBe('SIGKILL')
    // The next command opens the folder (and sweeps the dead run's staging folder).
    expect(await runCertdeskJson<unknown[]>(['--data', killedData, 'device', 'list'])).toEqual([])
    expect(await runCertdeskJson<unknown[]>(['--data', killedData, 'cert', 'list'])).toEqual([])
    expect(await folderSnapshot(killedData)).toEqual(before)
    const doctor = await runCertdesk(['--data', killedData, 'doctor'])
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0)
  }, 120_000)

  it('Ctrl-C cancels cleanly: one sentence, a non-zero exit, nothing written', async () => {
    const cancelledData = await initialised('cancelled')
    await runCertdeskJson(['--data', cancelledData, 'device', 'list'])
    const before = await folderSnapshot(cancelledData)
    const csv = join(folder, 'cancelled.csv')
    await writeFile(csv, fleetCsv(3_000, 'valve'))
    const out = join(folder, 'cancelled-out')
    const { child, exited } = await startProvisioning(['--data', cancelledData, '--json', 'provision', '--csv', csv, '--out', out])
    child.kill('SIGINT')
    const result = await exited
    expect(result.code).toBe(1)
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('certdesk: Provisioning was cancelled; nothing was written.')
    expect(await folderSnapshot(cancelledData)).toEqual(before)
    await expect(stat(out)).rejects.toThrow()
  }, 120_000)
})

describe('the other shapes of a run', () => {
  it('--zip writes one zip of per-device zips and the manifest; --jsonl reads JSON lines; a used folder is refused first', async () => {
    const zipData = await initialised('zipped')
    const jsonl = join(folder, 'devices.jsonl')
    await writeFile(
      jsonl,
      [
        { name: 'Pump', device_id: 'pump-0000001', auth: 'cert' },
        { name: 'Gauge', device_id: 'gauge-000001', auth: 'token', username: 'gauge' },
      ]
        .map((row) => JSON.stringify(row))
        .join('\n'),
    )
    const zipPath = join(folder, 'fleet.zip')
    const result = await runCertdesk(['--data', zipData, 'provision', '--jsonl', jsonl, '--zip', zipPath, '--include-device-keys'])
    expect(result.code, result.stderr).toBe(0)
    expect((await stat(zipPath)).mode & 0o777).toBe(0o600)
    const zip = new AdmZip(zipPath)
    expect(
      zip
        .getEntries()
        .map((entry) => entry.entryName)
        .sort(),
    ).toEqual(['device-keys.csv', 'manifest.csv', 'pump-0000001.zip'])
    const bundle = new AdmZip(zip.getEntry('pump-0000001.zip')?.getData())
    expect(
      bundle
        .getEntries()
        .map((entry) => entry.entryName)
        .sort(),
    ).toEqual(['common_certs/common.crt', 'common_certs/common.key', 'common_certs/root_ca.crt'])
    const refused = await runCertdesk(['--data', zipData, 'provision', '--jsonl', jsonl, '--out', outDir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^certdesk: .*out already exists and is not empty/)
  })
})
