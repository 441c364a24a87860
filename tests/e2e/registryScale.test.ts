import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openScreen, signedInPagePerTest } from '../helpers/browser'
import { largeRegistryNames as names, makeLargeRegistry } from '../helpers/largeRegistry'
import { startServe } from '../helpers/serve'
import { temporaryFolder } from '../helpers/tools'

// The Certificates and Devices screens with several thousand rows (issue 12): what they show, page
// by page, searched, filtered and sorted, is right. How fast is bench/registryScreens.bench.ts's
// business. Rows: `cert-00000`… and `Device 00000` (`dev-00000`)…, the even devices `cert`
// devices bound to the certificate of their number, the odd ones `token` devices.

const ROWS = 3000
const PAGE = 20
let origin: string
let page: Page
const session = signedInPagePerTest({ viewport: { width: 1360, height: 900 } })

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const certificateNames = () => page.locator('[data-test="certificate-table"] [data-test^="certificate-link-"]').allInnerTexts()
const deviceIds = () => page.locator('[data-test="device-table"] .device-id').allInnerTexts()
/** The count the pagination shows ("Total 3000"); null when everything fits on one page. */
async function total(): Promise<number | null> {
  const shown = page.locator('.el-pagination__total')
  return (await shown.count()) ? Number((await shown.innerText()).replace(/\D/g, '')) : null
}
async function choose(select: string, option: string): Promise<void> {
  await page.getByTestId(select).click()
  await page.getByTestId(option).click()
  await expect.poll(() => page.locator('.el-select__popper:visible').count()).toBe(0)
}

beforeAll(async () => {
  const folder = await temporaryFolder('certdesk-registry-scale-')
  const dataDir = join(folder, 'data')
  await makeLargeRegistry(dataDir, ROWS)
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  ;({ origin } = session)
}, 180_000)

beforeEach(() => {
  page = session.page
})

describe(`the Certificates screen with ${ROWS} certificates`, () => {
  it('shows one page of rows, sorts the whole list, searches and filters it', async () => {
    await openScreen(page, origin, '/certificates', 'certificates')
    expect(await total()).toBe(ROWS)
    expect(await certificateNames()).toHaveLength(PAGE)

    // Sorted by name, both ways, over the whole list (not the page).
    await page.locator('[data-test="certificate-table"] th.sort-name').click()
    await expect.poll(certificateNames).toEqual(range(0, PAGE).map(names.certificate))
    await page.locator('.el-pagination .btn-next').click()
    await expect.poll(certificateNames).toEqual(range(PAGE, 2 * PAGE).map(names.certificate))
    await page.locator('[data-test="certificate-table"] th.sort-name').click()
    await expect.poll(certificateNames).toEqual(
      range(ROWS - PAGE, ROWS)
        .reverse()
        .map(names.certificate),
    )

    // A search keeps the order and starts at page 1: 100 names hold "cert-010" (cert-01000…cert-01099).
    await page.getByTestId('certificate-search').fill('CERT-010')
    await expect.poll(total).toBe(100)
    expect(await certificateNames()).toEqual(range(1080, 1100).reverse().map(names.certificate))
    await page.getByTestId('certificate-search').fill('cert-02345')
    await expect.poll(certificateNames).toEqual(['cert-02345'])
    expect(await total()).toBeNull()

    // Filters: the even certificates are bound; with the search, only the bound ones of "cert-0001" (cert-00010…00019).
    await page.getByTestId('certificate-search').fill('cert-0001')
    await choose('certificate-filter-binding', 'filter-binding-bound')
    await expect.poll(certificateNames).toEqual([18, 16, 14, 12, 10].map(names.certificate))
    await choose('certificate-filter-binding', 'filter-binding-unbound')
    await expect.poll(certificateNames).toEqual([19, 17, 15, 13, 11].map(names.certificate))
    await page.getByTestId('certificate-search').fill('')
    await expect.poll(total).toBe(ROWS / 2)
    await page.getByTestId('certificate-search').fill('nothing is called this')
    await expect.poll(() => page.getByTestId('certificate-table').innerText()).toContain('No matches')
  })
})

describe(`the Devices screen with ${ROWS} devices`, () => {
  it('shows one page of rows, sorts the whole list, searches names and device IDs, and filters', async () => {
    await openScreen(page, origin, '/devices', 'devices')
    expect(await total()).toBe(ROWS)
    // Newest first: each device was created a millisecond after the one before.
    expect(await deviceIds()).toEqual(
      range(ROWS - PAGE, ROWS)
        .reverse()
        .map(names.deviceId),
    )

    await page.locator('[data-test="device-table"] th.sort-name').click()
    await expect.poll(deviceIds).toEqual(range(0, PAGE).map(names.deviceId))

    // By device ID and by name, case aside.
    await page.getByTestId('device-search').fill('DEV-0299')
    await expect.poll(deviceIds).toEqual(range(2990, 3000).map(names.deviceId))
    await page.getByTestId('device-search').fill('device 0123')
    await expect.poll(deviceIds).toEqual(range(1230, 1240).map(names.deviceId))
    expect(await total()).toBeNull()

    await choose('device-filter-auth', 'filter-auth-token')
    await expect.poll(deviceIds).toEqual([1231, 1233, 1235, 1237, 1239].map(names.deviceId))
    await choose('device-filter-binding', 'filter-binding-bound')
    await expect.poll(() => page.getByTestId('device-table').innerText()).toContain('No matches')
    await choose('device-filter-auth', 'filter-auth-cert')
    await expect.poll(deviceIds).toEqual([1230, 1232, 1234, 1236, 1238].map(names.deviceId))
    await page.getByTestId('device-search').fill('')
    await expect.poll(total).toBe(ROWS / 2)
  })
})
