import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openssl } from './tools'

/*
 * CAs made by the real openssl, the way an operator's existing PKI would have made them, for the
 * `ca import` tests: self-signed roots, an intermediate under a root, PKCS#12 files, an encrypted
 * key, and the broken ones the import must refuse; and a device's own key and request.
 */

export type ExternalKey = 'ec' | 'rsa' | 'ed25519'

const KEY_ARGS: Record<ExternalKey, string[]> = {
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  rsa: ['-newkey', 'rsa:2048'],
  ed25519: ['-newkey', 'ed25519'],
}

/**
 * A device's own EC P-256 key and a certificate signing request for it, made by openssl as on the
 * device: `key` and `csr` are the paths to write; `extra` goes to `openssl req` (e.g. -subj, -addext).
 */
export async function makeDeviceRequest(key: string, csr: string, extra: string[] = []): Promise<void> {
  await openssl(['req', '-new', ...KEY_ARGS.ec, '-nodes', '-keyout', key, '-out', csr, ...extra])
}

/** The extensions a CA certificate gets; `ski` is a literal subjectKeyIdentifier (hex with colons). */
export interface CaExtensions {
  basicConstraints?: string
  /** Omitted when null. */
  keyUsage?: string | null
  ski?: string
}

async function extensionFile(dir: string, name: string, extensions: CaExtensions): Promise<string> {
  const path = join(dir, `${name}.ext.cnf`)
  const lines = [
    '[req]',
    'distinguished_name = dn',
    '[dn]',
    '[ca_ext]',
    `basicConstraints = ${extensions.basicConstraints ?? 'critical,CA:TRUE'}`,
    ...(extensions.keyUsage === null ? [] : [`keyUsage = ${extensions.keyUsage ?? 'critical,keyCertSign,cRLSign'}`]),
    `subjectKeyIdentifier = ${extensions.ski ?? 'hash'}`,
    'authorityKeyIdentifier = keyid:always',
  ]
  await writeFile(path, `${lines.join('\n')}\n`)
  return path
}

export interface ExternalCa {
  certificate: string
  key: string
}

/** A self-signed root CA: `${name}.crt` and an unencrypted `${name}.key`. */
export async function makeRoot(
  dir: string,
  name: string,
  options: { key?: ExternalKey; subject?: string; days?: number } & CaExtensions = {},
): Promise<ExternalCa> {
  const config = await extensionFile(dir, name, options)
  const certificate = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  await openssl([
    'req',
    '-x509',
    ...KEY_ARGS[options.key ?? 'ec'],
    '-nodes',
    '-keyout',
    key,
    '-out',
    certificate,
    '-subj',
    options.subject ?? `/O=Example Fleet/CN=${name}`,
    '-days',
    String(options.days ?? 3650),
    '-config',
    config,
    '-extensions',
    'ca_ext',
  ])
  return { certificate, key }
}

/** A CA signed by `issuer`: `${name}.crt` and its unencrypted key. */
export async function makeIntermediate(
  dir: string,
  name: string,
  issuer: ExternalCa,
  options: { key?: ExternalKey; days?: number } & CaExtensions = {},
): Promise<ExternalCa> {
  const config = await extensionFile(dir, name, options)
  const certificate = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const request = join(dir, `${name}.csr`)
  await openssl([
    'req',
    '-new',
    ...KEY_ARGS[options.key ?? 'ec'],
    '-nodes',
    '-keyout',
    key,
    '-out',
    request,
    '-subj',
    `/O=Example Fleet/CN=${name}`,
  ])
  await openssl([
    'x509',
    '-req',
    '-in',
    request,
    '-CA',
    issuer.certificate,
    '-CAkey',
    issuer.key,
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    String(options.days ?? 3650),
    '-extfile',
    config,
    '-extensions',
    'ca_ext',
    '-out',
    certificate,
  ])
  return { certificate, key }
}

/** A self-signed root whose validity lies wholly in the past (`openssl ca -selfsign` with dates). */
export async function makeExpiredRoot(dir: string, name: string): Promise<ExternalCa> {
  const key = join(dir, `${name}.key`)
  const request = join(dir, `${name}.csr`)
  const certificate = join(dir, `${name}.crt`)
  const caDir = join(dir, `${name}-ca`)
  await openssl(['req', '-new', ...KEY_ARGS.ec, '-nodes', '-keyout', key, '-out', request, '-subj', `/CN=${name}`])
  await mkdir(caDir)
  await writeFile(join(caDir, 'index.txt'), '')
  const config = join(caDir, 'ca.cnf')
  await writeFile(
    config,
    [
      '[ca]',
      'default_ca = own',
      '[own]',
      `dir = ${caDir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir',
      'serial = $dir/serial',
      'default_md = sha256',
      'policy = any',
      'x509_extensions = ca_ext',
      '[any]',
      'commonName = supplied',
      '[ca_ext]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  )
  await writeFile(join(caDir, 'serial'), '01\n')
  await openssl([
    'ca',
    '-batch',
    '-config',
    config,
    '-selfsign',
    '-keyfile',
    key,
    '-in',
    request,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20210101000000Z',
    '-out',
    certificate,
    '-notext',
  ])
  return { certificate, key }
}

/** The key encrypted as PKCS#8 with AES-256 under `passphrase`. */
export async function encryptKey(key: string, passphrase: string): Promise<string> {
  const encrypted = key.replace(/\.key$/, '.enc.key')
  await openssl(['pkey', '-in', key, '-aes256', '-passout', `pass:${passphrase}`, '-out', encrypted])
  return encrypted
}

/** `openssl pkcs12 -export` of a CA with its chain (`-legacy`: RC2/3DES and SHA-1, as old tools write it). */
export async function exportPkcs12(
  ca: ExternalCa,
  out: string,
  passphrase: string,
  options: { chain?: string[]; legacy?: boolean } = {},
): Promise<string> {
  const chain = options.chain ?? []
  const chainFile = `${out}.chain.pem`
  if (chain.length > 0) {
    await writeFile(chainFile, (await Promise.all(chain.map((path) => readFile(path, 'utf8')))).join(''))
  }
  await openssl([
    'pkcs12',
    '-export',
    ...(options.legacy ? ['-legacy'] : []),
    '-in',
    ca.certificate,
    '-inkey',
    ca.key,
    ...(chain.length > 0 ? ['-certfile', chainFile] : []),
    '-passout',
    `pass:${passphrase}`,
    '-out',
    out,
  ])
  return out
}
