import type { ClientEndpoints, DeviceView } from '../../src-main/contract/types'

export interface Example {
  id: string
  title: string
  language: string
  code: string
}

const python = (body: string) => `# --coding: utf-8--

import ssl
import json
import paho.mqtt.client as mqtt

${body}

def on_connect(client, userdata, flags, rc):
    print('Connected with result code ' + str(rc))
    client.subscribe('/hello')
    client.publish('/hello', json.dumps({'hello': 'world'}))


def on_message(client, userdata, msg):
    print('topic: {0}, payload: {1}'.format(msg.topic, str(msg.payload)))


client.on_connect = on_connect
client.on_message = on_message
client.connect(HOST, PORT)
client.loop_forever()
`

function mqttJs(id: string, host: string, port: number, options: string[]): Example {
  return {
    id,
    title: `mqtt.js, ${port}`,
    language: 'javascript',
    code: `import fs from 'node:fs'
import mqtt from 'mqtt'

const client = mqtt.connect('mqtts://${host}:${port}', {
${options.map((line) => `  ${line.endsWith(',') ? line : `${line},`}`).join('\n')}
})
client.on('connect', () => {
  client.subscribe('/hello')
  client.publish('/hello', JSON.stringify({ hello: 'world' }))
})
client.on('message', (topic, payload) => console.log(topic, payload.toString()))
`,
  }
}

/** Stands in the examples until the operator reveals the key (it stays in the main process until then). */
const DEVICE_KEY_PLACEHOLDER = 'DEVICE_KEY'

/**
 * Ready-to-run code for this device, following the seed's examples (paho-mqtt 1.x); with the
 * device key once it has been revealed, else a placeholder.
 */
export function deviceExamples(device: DeviceView & { deviceKey?: string }, endpoint: ClientEndpoints): Example[] {
  const quoted = (text: string) => JSON.stringify(text)
  const deviceKey = device.deviceKey ?? DEVICE_KEY_PLACEHOLDER
  const examples: Example[] = []
  if (device.authType === 'token') {
    examples.push(
      {
        id: 'python-8883',
        title: `Python (paho-mqtt), ${endpoint.oneWayPort}`,
        language: 'python',
        code: python(`client_id = ${quoted(device.deviceId)}
username = ${quoted(device.username)}
password = ${quoted(deviceKey)}
HOST = ${quoted(endpoint.host)}
PORT = ${endpoint.oneWayPort}

client = mqtt.Client(client_id=client_id)
client.username_pw_set(username, password)
client.tls_set(ca_certs='./common_certs/root_ca.crt', cert_reqs=ssl.CERT_REQUIRED)`),
      },
      mqttJs('mqttjs-8883', endpoint.host, endpoint.oneWayPort, [
        `clientId: ${quoted(device.deviceId)}`,
        `username: ${quoted(device.username)}`,
        `password: ${quoted(deviceKey)}`,
        "ca: fs.readFileSync('./common_certs/root_ca.crt'),",
      ]),
      {
        id: 'mosquitto-8883',
        title: `mosquitto_pub, ${endpoint.oneWayPort}`,
        language: 'shell',
        code: `mosquitto_pub -h ${endpoint.host} -p ${endpoint.oneWayPort} --cafile common_certs/root_ca.crt \\
  -i '${device.deviceId}' -u '${device.username}' -P '${deviceKey}' \\
  -t /hello -m '{"hello": "world"}'
`,
      },
    )
  } else {
    examples.push(
      {
        id: 'python-8884',
        title: `Python (paho-mqtt), ${endpoint.mutualPort}`,
        language: 'python',
        code: python(`client_id = ${quoted(device.deviceId)}
username = ${quoted(device.username)}
HOST = ${quoted(endpoint.host)}
PORT = ${endpoint.mutualPort}

client = mqtt.Client(client_id=client_id)
client.username_pw_set(username)
client.tls_set(ca_certs='./common_certs/root_ca.crt',
               certfile='./common_certs/common.crt',
               keyfile='./common_certs/common.key',
               tls_version=ssl.PROTOCOL_TLSv1_2)`),
      },
      mqttJs('mqttjs-8884', endpoint.host, endpoint.mutualPort, [
        `clientId: ${quoted(device.deviceId)}`,
        `username: ${quoted(device.username)}`,
        "ca: fs.readFileSync('./common_certs/root_ca.crt'),",
        "cert: fs.readFileSync('./common_certs/common.crt'),",
        "key: fs.readFileSync('./common_certs/common.key'),",
      ]),
      {
        id: 'mosquitto-8884',
        title: `mosquitto_pub, ${endpoint.mutualPort}`,
        language: 'shell',
        code: `mosquitto_pub -h ${endpoint.host} -p ${endpoint.mutualPort} --cafile common_certs/root_ca.crt \\
  --cert common_certs/common.crt --key common_certs/common.key \\
  -i '${device.deviceId}' -u '${device.username}' -t /hello -m '{"hello": "world"}'
`,
      },
    )
  }
  return examples
}
