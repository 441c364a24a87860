#!/usr/bin/env node
// `npm test` runs real peers (openssl, mosquitto, paho-mqtt, Chromium, RabbitMQ). Say in one sentence what
// is missing and how to install it, instead of failing deep inside a test.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
const checks = [
  ['openssl', () => onPath('openssl')],
  ['unzip', () => onPath('unzip')],
  ['mosquitto', () => onPath('mosquitto') || existsSync('/usr/sbin/mosquitto')],
  ['mosquitto-clients', () => onPath('mosquitto_pub') && onPath('mosquitto_sub')],
  ['python3-paho-mqtt', () => spawnSync('/usr/bin/python3', ['-c', 'import paho.mqtt.client'], { stdio: 'ignore' }).status === 0],
  ['chromium', () => existsSync(process.env.CERTDESK_CHROMIUM ?? '/usr/bin/chromium')],
  // The RabbitMQ export's proof starts a two-node cluster from Debian's package.
  ['rabbitmq-server', () => existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')],
]
const missing = checks.filter(([, present]) => !present()).map(([name]) => name)
if (missing.length > 0) {
  console.error(
    `npm test needs Debian packages that are missing: ${missing.join(', ')}; install them with "sudo apt-get install ${missing.join(' ')} fonts-noto-cjk" (as .ci/run does).`,
  )
  process.exit(1)
}
