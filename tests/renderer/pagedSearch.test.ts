import { nextTick, shallowRef } from 'vue'
import { describe, expect, it } from 'vitest'
import { usePagedSearch } from '../../src-renderer/src/composables/usePagedSearch'

// The lists' search, sort and pages (issue 12's speed-ups kept the issue 10 behaviour): sorted as
// the collator sorts (numbers by value, case aside), ties in the list's own order both ways, a
// search that keeps the order, and a list replaced (not changed in place) followed.

interface Row {
  id: string
  name: string
  createdAt: string
}
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })
const rows = (names: string[]): Row[] =>
  names.map((name, i) => ({ id: `r${i}`, name, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 2))).toISOString() }))

function table(list: Row[]) {
  const items = shallowRef<readonly Row[]>(list)
  const paged = usePagedSearch(items, {
    searchText: (row) => row.name.toLowerCase(),
    sortBy: { name: (row) => row.name, createdAt: (row) => Date.parse(row.createdAt) },
    defaultSort: { prop: 'createdAt', order: 'descending' },
  })
  return { items, ...paged }
}

describe('usePagedSearch', () => {
  it('sorts names as the collator does, ASCII or not, and keeps ties in the list’s order both ways', () => {
    const names = ['cert-10', 'Cert-9', 'cert-09', 'a b', 'a-b', 'a.b', 'ab', 'AB', 'Ä', 'z', '水表 2', '水表 10', 'x 1.5', 'x 1.10', '']
    const { filtered, sortChanged, pageSize } = table(rows(names))
    pageSize.value = 100
    const byCollator = names.map((name, index) => ({ name, index })).sort((a, b) => collator.compare(a.name, b.name) || a.index - b.index)
    sortChanged({ prop: 'name', order: 'ascending' })
    expect(filtered.value.map((row) => row.name)).toEqual(byCollator.map((entry) => entry.name))
    // Descending: the collator's order reversed, equal names ("Cert-9"/"cert-09", "ab"/"AB") still oldest first.
    const descending = names
      .map((name, index) => ({ name, index }))
      .sort((a, b) => collator.compare(b.name, a.name) || a.index - b.index)
      .map((entry) => entry.name)
    sortChanged({ prop: 'name', order: 'descending' })
    expect(filtered.value.map((row) => row.name)).toEqual(descending)
  })

  it('defaults to newest first with ties in the list’s order, searches within that order, and pages', async () => {
    const list = rows(Array.from({ length: 45 }, (_, i) => `Device ${i}`))
    const { filtered, rows: page, search, page: pageNumber, items } = table(list)
    // Two rows per second: 44 alone, then (42, 43), (40, 41)…
    expect(filtered.value.slice(0, 5).map((row) => row.name)).toEqual(['Device 44', 'Device 42', 'Device 43', 'Device 40', 'Device 41'])
    expect(page.value).toHaveLength(20)
    pageNumber.value = 3
    expect(page.value.map((row) => row.name)).toEqual(['Device 5', 'Device 2', 'Device 3', 'Device 0', 'Device 1'])
    search.value = ' DEVICE 4 '
    expect(filtered.value.map((row) => row.name)).toEqual(['Device 44', 'Device 42', 'Device 43', 'Device 40', 'Device 41', 'Device 4'])
    // A new list (the store replaces it on a change) is followed.
    items.value = [...list, { id: 'new', name: 'Device 4 new', createdAt: '2027-01-01T00:00:00.000Z' }]
    await nextTick()
    expect(filtered.value[0]?.name).toBe('Device 4 new')
  })
})
