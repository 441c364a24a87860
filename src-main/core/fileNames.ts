/**
 * A name made safe as a file name on every system and in every shell command line: runs of
 * anything but letters, digits, `.`, `_` and `-` become `_`. Used for suggested bundle names
 * (save dialog, CLI hint) and the ASCII fallback of a download's name.
 */
export function portableFileName(name: string, fallback = 'certificate'): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 60) || fallback
}
