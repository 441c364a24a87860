// Authority's "Export for a broker" in Chromium (browser mode): the dialog's choices reach the
// export, and the zip the page downloads holds the target's files under certdesk-<target>/.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import AdmZip from 'adm-zip'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signedInPagePerTest } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { openssl, runCertdeskJson, temporaryFolder } from '../helpers/tools'

const session = signedInPagePerTest({ viewport: { width: 1360, height: 900 } })
let folder: string
let dataDir: string
let origin: string
let page: Page

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-broker-export-screen-')
  dataDir = join(folder, 'data')
  const cli = (...args: string[]) => runCertdeskJson(['--data', dataDir, ...args])
  await cli('ca', 'init', '--key-type', 'ec-p256')
  await cli('device', 'create', '--name', 'Meter', '--auth', 'token', '--device-id', 'screen-meter-01')
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  origin = session.origin
})

beforeEach(() => {
  page = session.page
})

describe('Export for a broker', () => {
  it('downloads the chosen target as one zip, the broker certificate naming the hosts given', async () => {
    await openScreen(page, origin, '/authority', 'authority')
    await page.getByTestId('broker-export-open').click()
    const dialog = page.getByTestId('broker-export-dialog')
    await dialog.waitFor()
    await page.getByTestId('broker-export-target-rabbitmq').click()
    await page.getByTestId('broker-export-hosts').fill('mqtt.example.com, 10.0.0.5')
    await page.getByTestId('broker-export-install-dir').fill('/srv/rabbitmq/fleet')
    await screenshotWhenSettled(page, 'broker-export-dialog')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('broker-export-submit').click()])
    expect(download.suggestedFilename()).toBe('certdesk-rabbitmq.zip')
    const path = join(folder, 'export.zip')
    await download.saveAs(path)
    const zip = new AdmZip(path)
    const names = zip.getEntries().map((entry) => entry.entryName)
    expect(names).toEqual(expect.arrayContaining(['certdesk-rabbitmq/README.md', 'certdesk-rabbitmq/certs/server.key']))
    expect(names.every((name) => name.startsWith('certdesk-rabbitmq/'))).toBe(true)
    // The install folder the dialog was given is where the configuration looks for the files.
    const texts = zip
      .getEntries()
      .filter((entry) => !entry.isDirectory)
      .map((entry) => entry.getData().toString('utf8'))
      .join('\n')
    expect(texts).toContain('/srv/rabbitmq/fleet/certs/')
    const server = join(folder, 'server.crt')
    zip.extractEntryTo('certdesk-rabbitmq/certs/server.crt', folder, false, true)
    const altNames = await openssl(['x509', '-in', server, '-noout', '-ext', 'subjectAltName'])
    expect(altNames).toMatch(/DNS:mqtt\.example\.com\b/)
    expect(altNames).toMatch(/IP Address:10\.0\.0\.5\b/)
    // The dialog closes with a message, and the export is in the audit log.
    await dialog.waitFor({ state: 'hidden' })
    const audit = await runCertdeskJson<{ action: string; target: string }[]>(['--data', dataDir, 'audit'])
    expect(audit.at(-1)).toMatchObject({ action: 'broker.export-production', target: 'rabbitmq' })
  })

  it('warns, for EMQX only, while the CA has no CRL distribution point, and no longer once it has one', async () => {
    await openScreen(page, origin, '/authority', 'authority')
    await page.getByTestId('broker-export-open').click()
    const warning = page.getByTestId('broker-export-crl-warning')
    await page.getByTestId('broker-export-target-mosquitto').click()
    expect(await warning.count()).toBe(0)
    await page.getByTestId('broker-export-target-emqx').click()
    await warning.waitFor()
    expect(await warning.innerText()).toMatch(/This CA has no CRL distribution point, and EMQX checks revocation only there/)
    await runCertdeskJson(['--data', dataDir, 'ca', 'set', '--crl-url', 'http://pki.example.com/root.crl'])
    await openScreen(page, origin, '/authority', 'authority')
    await page.getByTestId('broker-export-open').click()
    await page.getByTestId('broker-export-target-emqx').click()
    await page.getByTestId('broker-export-submit').waitFor()
    expect(await page.getByTestId('broker-export-crl-warning').count()).toBe(0)
  })

  it('refuses a relative install folder in one sentence, in the dialog', async () => {
    await openScreen(page, origin, '/authority', 'authority')
    await page.getByTestId('broker-export-open').click()
    await page.getByTestId('broker-export-install-dir').fill('relative/path')
    await page.getByTestId('broker-export-submit').click()
    const error = page.getByTestId('broker-export-error')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/"relative\/path" is not an install folder Certdesk can write into a broker's configuration/)
  })
})
