import { homedir } from 'node:os'
import { join } from 'node:path'

/** The product name Electron derives its data folder from (`app.getPath('userData')`). */
const APP_NAME = 'Certdesk'

/**
 * Electron's userData folder for this app, computed without Electron so the CLI and the
 * desktop app share one registry by default.
 */
function defaultDataFolder(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), APP_NAME)
}

/** `--data`, else `$CERTDESK_HOME`, else the desktop app's folder. */
export function resolveDataFolder(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.CERTDESK_HOME || defaultDataFolder(env)
}
