// Every string in both languages: the screens' texts and the main side's sentences (the core's
// catalog, the tester's diagnoses, the broker's refusal reasons) exist in English and Chinese with
// the same values, the page words the core's English exactly as the CLI does, no template holds
// literal user-facing text, every key the code names exists, and every error the core raises on
// purpose is a sentence of the catalog.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { babelParse, parse } from 'vue/compiler-sfc'
import { describe, expect, it } from 'vitest'
import { temporaryFolder } from '../helpers/tools'
import { MESSAGES, type MessageKey, fillTemplate, messageTemplate } from '../../src-main/core/messages'
import { DIAGNOSIS_MESSAGES } from '../../src-main/core/tester/diagnosis'
import type { DiagnosisCode } from '../../src-main/core/tester/types'
import { ApiError } from '../../src-renderer/src/apiError'
import { LOCALE_MESSAGES, i18n } from '../../src-renderer/src/i18n'
import { diagnosisText, errorText, logReasonText } from '../../src-renderer/src/i18n/translate'

const ROOT = join(import.meta.dirname, '../..')
const RENDERER = join(ROOT, 'src-renderer/src')
const CORE = join(ROOT, 'src-main/core')

function filesUnder(folder: string, pattern: RegExp): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry)
    if (statSync(path).isDirectory()) return filesUnder(path, pattern)
    return pattern.test(entry) ? [path] : []
  })
}
const where = (path: string) => relative(ROOT, path)

type Tree = { [key: string]: string | Tree }
/** Every leaf of a message tree, as `a.b.c` → text. */
function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const found = new Map<string, string>()
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (typeof value === 'string') found.set(path, value)
    else for (const [leaf, text] of leaves(value, path)) found.set(leaf, text)
  }
  return found
}
function resolve(tree: Tree, path: string): string | Tree | undefined {
  let node: string | Tree | undefined = tree
  for (const part of path.split('.')) node = typeof node === 'object' && Object.hasOwn(node, part) ? node[part] : undefined
  return node
}
const placeholders = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))].sort()

const EN = LOCALE_MESSAGES.en as unknown as Tree
const ZH = LOCALE_MESSAGES['zh-CN'] as unknown as Tree
const EN_LEAVES = leaves(EN)
const ZH_LEAVES = leaves(ZH)
const CORE_KEYS = [...leaves(MESSAGES as unknown as Tree).keys()] as MessageKey[]

/** Sample values for a template's placeholders, each one distinct. */
const sampleParams = (template: string) => Object.fromEntries(placeholders(template).map((name) => [name, `<${name}>`]))

describe('both languages', () => {
  it('have the same keys: none is in one language only', () => {
    const onlyEnglish = [...EN_LEAVES.keys()].filter((key) => !ZH_LEAVES.has(key))
    const onlyChinese = [...ZH_LEAVES.keys()].filter((key) => !EN_LEAVES.has(key))
    expect({ onlyEnglish, onlyChinese }).toEqual({ onlyEnglish: [], onlyChinese: [] })
  })

  it('name the same values in each text, and no text is empty', () => {
    const differ = [...EN_LEAVES].flatMap(([key, english]) => {
      const chinese = ZH_LEAVES.get(key)
      if (chinese === undefined) return []
      if (chinese.trim() === '' || english.trim() === '') return [`${key}: empty`]
      return placeholders(english).join() === placeholders(chinese).join()
        ? []
        : [`${key}: {${placeholders(english)}} ≠ {${placeholders(chinese)}}`]
    })
    expect(differ).toEqual([])
  })

  it('say each text in Chinese: none is left as the English', () => {
    const untranslated = [...EN_LEAVES].filter(([key, english]) => ZH_LEAVES.get(key) === english && isUserFacingText(english))
    expect(untranslated.map(([key, english]) => `${key}: ${english}`)).toEqual([])
  })

  it("hold every sentence of the core's catalog, every diagnosis and every refusal reason", () => {
    const missing = CORE_KEYS.flatMap((key) =>
      [EN_LEAVES, ZH_LEAVES].flatMap((texts, index) => (texts.has(`core.${key}`) ? [] : [`${index ? 'zh-CN' : 'en'}: ${key}`])),
    )
    expect(missing).toEqual([])
    const codes = Object.keys(DIAGNOSIS_MESSAGES) as DiagnosisCode[]
    for (const code of codes) {
      for (const key of [DIAGNOSIS_MESSAGES[code].summary, DIAGNOSIS_MESSAGES[code].nextStep]) {
        expect(ZH_LEAVES.has(`core.${key}`), `${code}: ${key}`).toBe(true)
      }
    }
    expect(CORE_KEYS.filter((key) => key.startsWith('refusal.')).length).toBeGreaterThan(20)
  })

  it("word the core's English on the page exactly as the CLI does, and Chinese without a value left out", () => {
    const differ: string[] = []
    for (const key of CORE_KEYS) {
      const template = messageTemplate(key)!
      const params = sampleParams(template)
      i18n.global.locale.value = 'en'
      const page = errorText(new ApiError({ ok: false, error: '', code: 'INVALID_INPUT', messageKey: key, params }))
      if (page !== fillTemplate(template, params)) differ.push(`${key}: ${page}`)
      i18n.global.locale.value = 'zh-CN'
      const chinese = errorText(new ApiError({ ok: false, error: '', code: 'INVALID_INPUT', messageKey: key, params }))
      const lost = Object.values(params).filter((value) => !chinese.includes(value))
      if (lost.length > 0 || /\{\w+\}/.test(chinese)) differ.push(`zh-CN ${key}: ${chinese}`)
    }
    i18n.global.locale.value = 'en'
    expect(differ).toEqual([])
  })
})

describe('what the main side says, on the page', () => {
  it("an error: the core's sentence by its key, a door's refusal by its code, else the English as sent", () => {
    const taken = new ApiError({
      ok: false,
      error: 'A certificate named "Pump" already exists.',
      code: 'CONFLICT',
      messageKey: 'certificate.nameTaken',
      params: { name: 'Pump' },
    })
    const unreachable = new ApiError({
      ok: false,
      error: 'Certdesk is not answering; is "certdesk serve" still running?',
      code: 'UNREACHABLE',
    })
    const internal = new ApiError({ ok: false, error: 'Something went wrong inside Certdesk (boom).', code: 'INTERNAL' })
    i18n.global.locale.value = 'en'
    expect([errorText(taken), errorText(unreachable), errorText(internal), errorText(new Error('page'))]).toEqual([
      'A certificate named "Pump" already exists.',
      'Certdesk is not answering; is "certdesk serve" still running?',
      'Something went wrong inside Certdesk (boom).',
      'page',
    ])
    i18n.global.locale.value = 'zh-CN'
    expect([errorText(taken), errorText(unreachable), errorText(internal)]).toEqual([
      '名为“Pump”的证书已存在。',
      'Certdesk 没有响应；“certdesk serve”还在运行吗？',
      'Certdesk 内部出错。',
    ])
    // A key this page does not know (a newer main side): the English it came with.
    const newer = new ApiError({
      ok: false,
      error: 'Newer sentence.',
      code: 'CONFLICT',
      messageKey: 'certificate.fromTheFuture' as MessageKey,
    })
    expect(errorText(newer)).toBe('Newer sentence.')
    i18n.global.locale.value = 'en'
  })

  it('a diagnosis and a refusal reason, by key and values', () => {
    i18n.global.locale.value = 'zh-CN'
    const diagnosis = diagnosisText({
      code: 'not-tls',
      summary: 'localhost:1883 does not answer with TLS.',
      nextStep: "Check the port: Certdesk's broker speaks TLS on 8883 (one-way) and 8884 (mutual).",
      messages: {
        summary: { key: 'diagnosis.notTls', params: { target: 'localhost:1883' } },
        nextStep: { key: 'diagnosis.notTlsNextOwn', params: { oneWayPort: 8883, mutualPort: 8884 } },
        brokerReason: { key: 'refusal.wrongDeviceKey' },
      },
    })
    expect(diagnosis).toEqual({
      summary: 'localhost:1883 没有以 TLS 应答。',
      nextStep: '请检查端口：Certdesk 的消息服务器在 8883（单向认证）和 8884（双向认证）上使用 TLS。',
      brokerReason: '设备密钥错误',
    })
    expect(
      logReasonText({
        reason: 'wrong username for device pump-0001',
        reasonMessage: { key: 'refusal.wrongUsername', params: { deviceId: 'pump-0001' } },
      }),
    ).toBe('设备 pump-0001 的用户名错误')
    // An entry written before reasons had keys: as it was logged.
    expect(logReasonText({ reason: 'wrong device key' })).toBe('wrong device key')
    i18n.global.locale.value = 'en'
  })
})

// Text a template may hold as it is: no letters, or only names that are the same in every
// language: the product, protocols and formats, protocol identifiers (ALPN's "mqtt"), and each
// language's own name in the language switch (always written in that language).
const SAME_IN_EVERY_LANGUAGE = [
  'Certdesk',
  'MQTT',
  'mqtt',
  'TLS',
  'QoS',
  'JSON',
  'PEM',
  'SNI',
  'ALPN',
  'PKCS#12',
  'SHA-256',
  'localhost',
  'English',
  '简体中文',
]
/** Attributes whose value the user reads (Element Plus's included). */
const USER_FACING_ATTRIBUTES = new Set([
  'title',
  'label',
  'placeholder',
  'alt',
  'aria-label',
  'content',
  'description',
  'empty-text',
  'no-data-text',
  'no-match-text',
  'loading-text',
  'active-text',
  'inactive-text',
  'confirm-button-text',
  'cancel-button-text',
  'start-placeholder',
  'end-placeholder',
  'sub-title',
  'text',
])

function isUserFacingText(text: string): boolean {
  let rest = text
  for (const name of SAME_IN_EVERY_LANGUAGE) rest = rest.split(name).join(' ')
  return /\p{L}/u.test(rest)
}

/** String literals an expression shows as they are (not keys given to t(), not values compared). */
function shownLiterals(node: { type: string; [field: string]: unknown }): string[] {
  switch (node.type) {
    case 'StringLiteral':
      return [node.value as string]
    case 'TemplateLiteral':
      return [
        ...(node.quasis as { value: { cooked: string } }[]).map((quasi) => quasi.value.cooked),
        ...(node.expressions as (typeof node)[]).flatMap(shownLiterals),
      ]
    case 'ConditionalExpression':
      return [...shownLiterals(node.consequent as typeof node), ...shownLiterals(node.alternate as typeof node)]
    case 'LogicalExpression':
      return [...shownLiterals(node.left as typeof node), ...shownLiterals(node.right as typeof node)]
    case 'BinaryExpression':
      return node.operator === '+' ? [...shownLiterals(node.left as typeof node), ...shownLiterals(node.right as typeof node)] : []
    case 'ParenthesizedExpression':
    case 'TSAsExpression':
    case 'TSNonNullExpression':
      return shownLiterals(node.expression as typeof node)
    default:
      return []
  }
}

function literalsOfExpression(source: string): string[] {
  try {
    const program = babelParse(`(${source})`, { plugins: ['typescript'] })
    const statement = program.program.body[0] as unknown as { expression: { type: string; [field: string]: unknown } }
    return shownLiterals(statement.expression)
  } catch {
    return []
  }
}

interface TemplateNode {
  type: number
  tag?: string
  content?: string | { content: string }
  children?: TemplateNode[]
  props?: { type: number; name: string; value?: { content: string }; arg?: { content: string }; exp?: { content: string } }[]
  loc: { start: { line: number } }
}

/** Literal user-facing text in a .vue file's template, as `line: text`. */
function literalTexts(path: string): string[] {
  const { descriptor } = parse(readFileSync(path, 'utf8'), { filename: path })
  const found: string[] = []
  const note = (line: number, text: string) => {
    if (isUserFacingText(text)) found.push(`${where(path)}:${line}: ${text.trim()}`)
  }
  const visit = (node: TemplateNode) => {
    const line = node.loc.start.line
    if (node.type === 2 && typeof node.content === 'string') note(line, node.content)
    if (node.type === 5 && typeof node.content === 'object') literalsOfExpression(node.content.content).forEach((text) => note(line, text))
    for (const prop of node.props ?? []) {
      if (prop.type === 6 && USER_FACING_ATTRIBUTES.has(prop.name) && prop.value) note(line, prop.value.content)
      if (prop.type === 7 && prop.name === 'bind' && prop.arg && USER_FACING_ATTRIBUTES.has(prop.arg.content) && prop.exp) {
        literalsOfExpression(prop.exp.content).forEach((text) => note(line, text))
      }
    }
    node.children?.forEach(visit)
  }
  if (descriptor.template?.ast) visit(descriptor.template.ast as unknown as TemplateNode)
  return found
}

const VUE_FILES = filesUnder(RENDERER, /\.vue$/)
const CODE_FILES = filesUnder(RENDERER, /\.(vue|ts)$/)

describe('templates', () => {
  it.each(VUE_FILES.map((path) => [where(path), path]))('%s holds no literal user-facing text', (_name, path) => {
    expect(literalTexts(path)).toEqual([])
  })
})

/** Keys the code names: t('a.b'), $t('a.b'), te('a.b'); a key built from a value checks its fixed start. */
function namedKeys(path: string): { line: number; key: string; prefix: boolean }[] {
  const source = readFileSync(path, 'utf8')
  const found: { line: number; key: string; prefix: boolean }[] = []
  for (const match of source.matchAll(/(?<![\w$])\$?te?\(\s*(['"`])((?:(?!\1).)*)\1/g)) {
    const line = source.slice(0, match.index).split('\n').length
    const key = match[2]
    const built = key.indexOf('${')
    found.push(built === -1 ? { line, key, prefix: false } : { line, key: key.slice(0, built).replace(/\.$/, ''), prefix: true })
  }
  return found
}

describe('keys the code names', () => {
  it.each(CODE_FILES.map((path) => [where(path), path]))('%s names only keys both languages have', (_name, path) => {
    const missing = namedKeys(path).flatMap(({ line, key, prefix }) =>
      [EN, ZH].flatMap((tree, index) => {
        const found = resolve(tree, key)
        const ok = prefix ? typeof found === 'object' : typeof found === 'string'
        return ok ? [] : [`${where(path)}:${line}: ${key}${prefix ? '.…' : ''} (${index ? 'zh-CN' : 'en'})`]
      }),
    )
    expect(missing).toEqual([])
  })
})

// ElMessageBox opens outside the app's el-config-provider, so its buttons stay in Element Plus's
// English unless each call names them from the catalog.
const MESSAGE_BOX_BUTTONS = ['confirmButtonText', 'cancelButtonText']

interface AstNode {
  type: string
  loc?: { start: { line: number } }
  [field: string]: unknown
}

/** ElMessageBox.confirm / prompt / alert calls in a .ts or .vue file, as `line` and whether they name both buttons. */
function messageBoxCalls(path: string): { line: number; namesButtons: boolean }[] {
  const text = readFileSync(path, 'utf8')
  const { descriptor } = path.endsWith('.vue') ? parse(text, { filename: path }) : { descriptor: undefined }
  const blocks = descriptor
    ? [descriptor.script, descriptor.scriptSetup].flatMap((block) =>
        block ? [{ code: block.content, firstLine: block.loc.start.line - 1 }] : [],
      )
    : [{ code: text, firstLine: 0 }]
  const found: { line: number; namesButtons: boolean }[] = []
  const visit = (node: unknown, firstLine: number): void => {
    if (Array.isArray(node)) return node.forEach((child) => visit(child, firstLine))
    if (!node || typeof node !== 'object' || typeof (node as AstNode).type !== 'string') return
    const call = node as AstNode & { callee?: AstNode & { object?: AstNode; property?: AstNode }; arguments?: AstNode[] }
    if (
      call.type === 'CallExpression' &&
      call.callee?.type === 'MemberExpression' &&
      call.callee.object?.name === 'ElMessageBox' &&
      ['confirm', 'prompt', 'alert'].includes(call.callee.property?.name as string)
    ) {
      const options = call.arguments?.find((argument) => argument.type === 'ObjectExpression') as { properties: AstNode[] } | undefined
      const named = new Set(options?.properties.map((property) => (property.key as AstNode | undefined)?.name))
      found.push({ line: firstLine + (call.loc?.start.line ?? 0), namesButtons: MESSAGE_BOX_BUTTONS.every((name) => named.has(name)) })
    }
    for (const [field, child] of Object.entries(node)) if (field !== 'loc') visit(child, firstLine)
  }
  for (const { code, firstLine } of blocks) visit(babelParse(code, { plugins: ['typescript'], sourceType: 'module' }).program, firstLine)
  return found
}

describe('message boxes', () => {
  it('name their confirm and cancel buttons from the catalog in every call', () => {
    const calls = CODE_FILES.flatMap((path) => messageBoxCalls(path).map((call) => ({ ...call, at: `${where(path)}:${call.line}` })))
    // The scan found the calls (a silently broken scan would pass over an empty list).
    expect(calls.length).toBeGreaterThanOrEqual(9)
    expect(calls.filter((call) => !call.namesButtons).map((call) => call.at)).toEqual([])
  })
})

// A sentence given as a string to the core's errors would reach the page in English only.
const SENTENCE_AS_TEXT = /(new CertdeskError\(\s*'[A-Z_]+',\s*|invalidInput\(\s*)(['"`])/g

describe("the core's errors", () => {
  it.each(filesUnder(CORE, /\.ts$/).map((path) => [where(path), path]))('%s raises only sentences of the catalog', (_name, path) => {
    const source = readFileSync(path, 'utf8')
    const plain = [...source.matchAll(SENTENCE_AS_TEXT)].map((match) => `${where(path)}:${source.slice(0, match.index).split('\n').length}`)
    expect(plain).toEqual([])
  })
})

// The scanners above pass when they find nothing; here each must find what it looks for, so a
// scanner that silently stopped working (a parser's node numbers, a regex) fails instead.
describe('the scanners themselves', () => {
  it('find literal text in a template, the keys code names, and a sentence raised as plain text', async () => {
    expect(VUE_FILES.length).toBeGreaterThan(10)
    expect(CODE_FILES.length).toBeGreaterThan(VUE_FILES.length)
    const dir = await temporaryFolder('certdesk-i18n-scanners-')
    const vue = join(dir, 'Sample.vue')
    writeFileSync(vue, "<template><div><p>Save</p><el-button :title=\"'Delete it'\">{{ t('common.save') }}</el-button></div></template>\n")
    expect(literalTexts(vue).map((found) => found.replace(/^.*: /, ''))).toEqual(['Save', 'Delete it'])
    expect(namedKeys(vue)).toEqual([{ line: 1, key: 'common.save', prefix: false }])
    const core = "throw new CertdeskError('CONFLICT', 'plain English')\nthrow invalidInput(`also plain`)\n"
    expect([...core.matchAll(SENTENCE_AS_TEXT)]).toHaveLength(2)
    const boxes = join(dir, 'Boxes.vue')
    writeFileSync(
      boxes,
      [
        '<script setup lang="ts">',
        "await ElMessageBox.confirm(t('a'), { type: 'warning' })",
        "await ElMessageBox.prompt(t('a'), t('b'), { confirmButtonText: t('c'), cancelButtonText: t('d') })",
        '</script>',
        '',
      ].join('\n'),
    )
    expect(messageBoxCalls(boxes)).toEqual([
      { line: 2, namesButtons: false },
      { line: 3, namesButtons: true },
    ])
  })
})
