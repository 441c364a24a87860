#!/usr/bin/env node
// Draws Certdesk's icon — a shield in the app's blue (#409eff, its right half a shade darker)
// with a white check mark — and writes every file electron-builder looks for in resources/, so a
// build never has to download its icon converter:
//   resources/icon.png              1024 × 1024, the source (and the Linux fallback)
//   resources/icons/NxN.png         16 … 512 for the Linux desktop entry (AppImage, deb)
//   resources/icon.icns             macOS (PNG entries, 16 … 1024)
//   resources/icon.ico              Windows and NSIS (16 … 64 as 32-bit bitmaps, 256 as PNG)
// Each size is drawn from the same shapes at that size (no downscaling), with anti-aliased edges.
// No dependency but Node's zlib (deflate, crc32).   node scripts/make-icon.mjs
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32, deflateSync } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const resources = join(root, 'resources')

const BLUE = [0x40, 0x9e, 0xff]
const BLUE_SHADE = [0x33, 0x7e, 0xcc] // the right half: #409eff at 80 %
const WHITE = [0xff, 0xff, 0xff]

// ---- shapes, in a 0…1 square --------------------------------------------------------------

function cubic(p0, p1, p2, p3, steps) {
  const points = []
  for (let i = 1; i <= steps; i++) {
    const t = i / steps
    const u = 1 - t
    points.push([
      u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
      u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
    ])
  }
  return points
}

/** The shield's outline, clockwise from the top centre. */
function shieldOutline() {
  const top = [0.5, 0.05]
  const rightShoulder = [0.87, 0.18]
  const rightWaist = [0.87, 0.47]
  const bottom = [0.5, 0.96]
  const leftWaist = [0.13, 0.47]
  const leftShoulder = [0.13, 0.18]
  return [
    top,
    ...cubic(top, [0.63, 0.13], [0.76, 0.17], rightShoulder, 24),
    rightWaist,
    ...cubic(rightWaist, [0.87, 0.72], [0.7, 0.87], bottom, 48),
    ...cubic(bottom, [0.3, 0.87], [0.13, 0.72], leftWaist, 48),
    leftShoulder,
    ...cubic(leftShoulder, [0.24, 0.17], [0.37, 0.13], top, 24),
  ]
}

/** The check mark: two strokes with round ends and join. */
const CHECK = {
  points: [
    [0.31, 0.5],
    [0.445, 0.635],
    [0.7, 0.37],
  ],
  width: 0.1,
}

// ---- rasterising ------------------------------------------------------------------------

/** Coverage (0…1) of a polygon per pixel: 16 sub-rows per pixel, exact along each sub-row. */
function polygonCoverage(outline, size) {
  const coverage = new Float32Array(size * size)
  const polygon = outline.map(([x, y]) => [x * size, y * size])
  const SUB = 16
  for (let row = 0; row < size; row++) {
    for (let sub = 0; sub < SUB; sub++) {
      const y = row + (sub + 0.5) / SUB
      const crossings = []
      for (let i = 0; i < polygon.length; i++) {
        const [x0, y0] = polygon[i]
        const [x1, y1] = polygon[(i + 1) % polygon.length]
        if (y0 <= y === y1 <= y) continue
        crossings.push(x0 + ((y - y0) / (y1 - y0)) * (x1 - x0))
      }
      crossings.sort((a, b) => a - b)
      for (let i = 0; i + 1 < crossings.length; i += 2) addSpan(coverage, size, row, crossings[i], crossings[i + 1], 1 / SUB)
    }
  }
  return coverage
}

function addSpan(coverage, size, row, from, to, weight) {
  const start = Math.max(0, from)
  const end = Math.min(size, to)
  for (let x = Math.floor(start); x < end; x++) {
    const covered = Math.min(end, x + 1) - Math.max(start, x)
    if (covered > 0) coverage[row * size + x] += covered * weight
  }
}

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax
  const dy = by - ay
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy))
}

/** Coverage of a round-capped stroke: 4 × 4 samples per pixel. */
function strokeCoverage({ points, width }, size) {
  const coverage = new Float32Array(size * size)
  const scaled = points.map(([x, y]) => [x * size, y * size])
  const half = (width * size) / 2
  const SUB = 4
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0
      for (let sy = 0; sy < SUB; sy++) {
        for (let sx = 0; sx < SUB; sx++) {
          const px = x + (sx + 0.5) / SUB
          const py = y + (sy + 0.5) / SUB
          for (let i = 0; i + 1 < scaled.length; i++) {
            if (distanceToSegment(px, py, scaled[i], scaled[i + 1]) <= half) {
              hits++
              break
            }
          }
        }
      }
      coverage[y * size + x] = hits / (SUB * SUB)
    }
  }
  return coverage
}

/** RGBA pixels of the icon at `size`. */
function drawIcon(size) {
  const shield = polygonCoverage(shieldOutline(), size)
  const check = strokeCoverage(CHECK, size)
  const rgba = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x
      const alpha = Math.min(1, shield[i])
      if (alpha === 0) continue
      // The split between the two blues runs down the middle, anti-aliased like the edges.
      const right = Math.max(0, Math.min(1, x + 1 - size / 2))
      const base = BLUE.map((c, k) => c * (1 - right) + BLUE_SHADE[k] * right)
      const mark = Math.min(check[i], alpha)
      const color = base.map((c, k) => c * (1 - mark / alpha) + WHITE[k] * (mark / alpha))
      rgba[i * 4] = Math.round(color[0])
      rgba[i * 4 + 1] = Math.round(color[1])
      rgba[i * 4 + 2] = Math.round(color[2])
      rgba[i * 4 + 3] = Math.round(alpha * 255)
    }
  }
  return rgba
}

// ---- file formats -------------------------------------------------------------------------

function chunk(type, data) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

function png(size, rgba) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** Apple icon image: PNG payloads under the type codes macOS reads. */
function icns(pngs) {
  const entries = [
    ['icp4', 16],
    ['icp5', 32],
    ['icp6', 64],
    ['ic07', 128],
    ['ic08', 256],
    ['ic09', 512],
    ['ic10', 1024],
    ['ic11', 32],
    ['ic12', 64],
    ['ic13', 256],
    ['ic14', 512],
  ].map(([type, size]) => {
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(pngs.get(size).length + 8, 4)
    return Buffer.concat([head, pngs.get(size)])
  })
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + entries.reduce((sum, entry) => sum + entry.length, 0), 4)
  return Buffer.concat([head, ...entries])
}

/** A 32-bit bottom-up DIB with its AND mask, as ICO files carry small sizes. */
function dib(size, rgba) {
  const header = Buffer.alloc(40)
  header.writeUInt32LE(40, 0)
  header.writeInt32LE(size, 4)
  header.writeInt32LE(size * 2, 8) // colour rows + mask rows
  header.writeUInt16LE(1, 12)
  header.writeUInt16LE(32, 14)
  const pixels = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = ((size - 1 - y) * size + x) * 4
      const to = (y * size + x) * 4
      pixels[to] = rgba[from + 2]
      pixels[to + 1] = rgba[from + 1]
      pixels[to + 2] = rgba[from]
      pixels[to + 3] = rgba[from + 3]
    }
  }
  const maskRow = Math.ceil(size / 32) * 4
  const mask = Buffer.alloc(maskRow * size)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (rgba[((size - 1 - y) * size + x) * 4 + 3] === 0) mask[y * maskRow + (x >> 3)] |= 0x80 >> (x & 7)
    }
  }
  return Buffer.concat([header, pixels, mask])
}

function ico(images) {
  const head = Buffer.alloc(6)
  head.writeUInt16LE(1, 2) // icon
  head.writeUInt16LE(images.length, 4)
  let offset = 6 + 16 * images.length
  const directory = images.map(({ size, data }) => {
    const entry = Buffer.alloc(16)
    entry[0] = size >= 256 ? 0 : size
    entry[1] = size >= 256 ? 0 : size
    entry.writeUInt16LE(1, 4) // planes
    entry.writeUInt16LE(32, 6) // bits per pixel
    entry.writeUInt32LE(data.length, 8)
    entry.writeUInt32LE(offset, 12)
    offset += data.length
    return entry
  })
  return Buffer.concat([head, ...directory, ...images.map(({ data }) => data)])
}

// ---- output -------------------------------------------------------------------------------

const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024]
const pixels = new Map(SIZES.map((size) => [size, drawIcon(size)]))
const pngs = new Map(SIZES.map((size) => [size, png(size, pixels.get(size))]))

mkdirSync(join(resources, 'icons'), { recursive: true })
writeFileSync(join(resources, 'icon.png'), pngs.get(1024))
for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(resources, 'icons', `${size}x${size}.png`), pngs.get(size))
writeFileSync(join(resources, 'icon.icns'), icns(pngs))
writeFileSync(
  join(resources, 'icon.ico'),
  ico([...[16, 24, 32, 48, 64].map((size) => ({ size, data: dib(size, pixels.get(size)) })), { size: 256, data: pngs.get(256) }]),
)
console.log(`Icons written to ${resources}`)
