import type { Command } from 'commander'
import type { ProfileUpdate } from '../../core/registry/profiles'
import { COMMON_NAME_SOURCES, END_ENTITY_KEY_USAGES, type ExtendedKeyUsageName, PROFILE_PLACEHOLDERS } from '../../core/pki/profiles'
import { type CliContext, keyTypeOption, parseDays, UsageError } from '../context'
import { describeProfile, profileTable } from '../output'

interface ProfileOptions {
  description?: string
  keyType?: string
  days?: string
  commonName?: string
  organization?: string
  organizationalUnit?: string
  country?: string
  san?: string[]
  noSan?: boolean
  keyUsage?: string
  extendedKeyUsage?: string
}

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)

/** The options as a change: only what was given, so `update` leaves the rest as it is. */
function profileChanges(options: ProfileOptions): ProfileUpdate {
  const changes: ProfileUpdate = {}
  if (options.description !== undefined) changes.description = options.description
  if (options.keyType !== undefined) changes.keyType = options.keyType as ProfileUpdate['keyType']
  if (options.days !== undefined) changes.days = parseDays(options.days)
  if (options.commonName !== undefined) changes.commonName = options.commonName as ProfileUpdate['commonName']
  if (options.organization !== undefined) changes.organization = options.organization
  if (options.organizationalUnit !== undefined) changes.organizationalUnit = options.organizationalUnit
  if (options.country !== undefined) changes.country = options.country
  if (options.san !== undefined) changes.subjectAltNames = options.san
  if (options.noSan) changes.subjectAltNames = []
  if (options.keyUsage !== undefined) changes.keyUsage = list(options.keyUsage) as ProfileUpdate['keyUsage']
  if (options.extendedKeyUsage !== undefined) changes.extendedKeyUsage = list(options.extendedKeyUsage) as ExtendedKeyUsageName[]
  return changes
}

/** The options `create` and `update` share; the values are judged by the core, in its sentences. */
function withProfileOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what the profile is for')
    .addOption(keyTypeOption().argParser((value) => value))
    .option('--days <n>', 'validity in days')
    .option('--common-name <source>', `where the common name comes from: ${COMMON_NAME_SOURCES.join(', ')}`)
    .option('--organization <O>', 'organisation (O); "" removes it')
    .option('--organizational-unit <OU>', 'organisational unit (OU); "" removes it')
    .option('--country <C>', 'two-letter country code (C); "" removes it')
    .option(
      '--san <entry>',
      `an alternative name, dns:, uri:, email: or ip: and the value, may hold ${PROFILE_PLACEHOLDERS.join(' ')} (repeat for more)`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--key-usage <list>', `comma-separated: ${END_ENTITY_KEY_USAGES.join(', ')}`)
    .option('--extended-key-usage <list>', 'comma-separated: clientAuth (required), serverAuth')
}

/** `certdesk profile`: device-certificate profiles, as data (like cfssl profiles or Vault PKI roles). */
export function registerProfileCommands(program: Command, context: CliContext): void {
  const { open, print } = context
  const profile = program.command('profile').description('certificate profiles: what device certificates look like')
  profile
    .command('list')
    .description('list profiles')
    .action(async (_options: unknown, command: Command) => {
      const profiles = (await open(command)).listProfiles()
      print(command, profiles, profileTable(profiles))
    })
  profile
    .command('show')
    .argument('<name>', 'profile name')
    .description('show a profile')
    .action(async (name: string, _options: unknown, command: Command) => {
      const view = (await open(command)).getProfile(name)
      print(command, view, describeProfile(view))
    })
  withProfileOptions(profile.command('create').argument('<name>', 'profile name (letters, digits, . _ -)'))
    .description('create a profile; what is not given is as in the default profile')
    .action(async (name: string, options: ProfileOptions, command: Command) => {
      const view = await (await open(command)).createProfile({ name, ...profileChanges(options) })
      print(
        command,
        view,
        `Created profile ${view.name}; use it with: certdesk cert create --profile ${view.name} ...\n${describeProfile(view)}`,
      )
    })
  withProfileOptions(profile.command('update').argument('<name>', 'profile name'))
    .option('--no-san', 'remove every alternative name')
    .description('change a profile; certificates already issued keep what they say')
    .action(async (name: string, options: ProfileOptions & { san?: string[] | false }, command: Command) => {
      // Commander turns --no-san into san: false.
      const changes = profileChanges({ ...options, san: options.san === false ? undefined : options.san, noSan: options.san === false })
      if (Object.keys(changes).length === 0) throw new UsageError('Nothing to change: give at least one option (see --help).')
      const view = await (await open(command)).updateProfile(name, changes)
      print(command, view, `Updated profile ${view.name}.\n${describeProfile(view)}`)
    })
  profile
    .command('delete')
    .argument('<name>', 'profile name')
    .description('delete a profile; certificates issued with it keep its name and renew as they are')
    .action(async (name: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).deleteProfile(name)
      print(command, view, `Deleted profile ${view.name}.`)
    })
}
