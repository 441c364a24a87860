import type en from './en'

const zhCN: typeof en = {
  app: { title: 'Certdesk', language: '语言' },
  nav: { certificates: '证书管理', devices: '设备管理', authority: '根证书', tester: '连接测试' },
  common: {
    create: '创建', cancel: '取消', save: '保存', delete: '删除', remove: '移除', search: '按名称搜索',
    enabled: '可用', disabled: '不可用', copy: '复制', copied: '已复制', reveal: '显示', hide: '隐藏',
    download: '下载', back: '返回', confirm: '确认', loading: '加载中…', name: '名称', created: '创建时间',
    days: '天', expires: '到期', details: '详情', yes: '是', no: '否',
  },
  certificates: {
    title: '证书管理', create: '创建证书', empty: '还没有证书。为您的第一台设备创建一个吧。',
    commonName: '通用名称', availability: '可用性', boundDevices: '绑定设备',
    expiresSoon: '30 天内到期', expired: '已过期',
    createTitle: '创建证书', advanced: '密钥类型与有效期', keyType: '密钥类型', validity: '有效期（天）',
    createdTitle: '证书已创建', createdHint: '请立即下载证书并妥善保管：其中包含私钥。',
    downloadBundle: '下载证书', downloadRoot: '下载 root_ca.crt',
    detailTitle: '证书详情', serial: '序列号', fingerprint: 'SHA-256 指纹', validFrom: '生效时间', validUntil: '失效时间',
    addDevices: '绑定设备', addDevicesTitle: '绑定设备', addDevicesHint: '仅列出认证方式为证书且尚未绑定的设备。',
    noCandidates: '没有可绑定的设备：请先创建认证方式为证书的设备。',
    deleteConfirm: '删除证书"{name}"？使用它的设备将无法连接。',
    deleteBlocked: '请先解除 {count} 台设备的绑定，再删除此证书。',
    unbindConfirm: '解除设备 {device} 的绑定？其在双向认证端口上的会话将结束。',
    saved: '已保存', noneBound: '此证书尚未绑定设备。',
  },
  devices: {
    title: '设备管理', create: '创建设备', empty: '还没有设备。', deviceId: '设备编号', username: '连接用户名',
    authType: '认证方式', token: 'Token', cert: '证书', certificates: '证书',
    createTitle: '创建设备', deviceIdHint: '留空则自动生成（8–36 位 A–Z a–z 0–9 _ -）', usernameHint: '默认与设备编号相同',
    bindCertificates: '绑定证书', newCertificate: '为其创建证书', newCertificateName: '新证书名称',
    authInfo: '认证信息', deviceKey: '设备密钥', endpoints: '接入地址', oneWay: '单向认证', mutual: '双向认证',
    examples: '示例代码', regenerate: '重新生成密钥', regenerateConfirm: '重新生成设备密钥？旧密钥将立即失效。',
    deleteConfirm: '删除设备 {device}？其绑定关系将被移除。',
  },
  tester: {
    title: '连接测试', fromDevice: '从设备', manual: '手动', device: '设备', port: '端口', host: '主机',
    certificate: '证书', quickTest: '快速测试', running: '测试中…', pass: '通过', fail: '失败',
    connectedIn: '{ms} 毫秒内连接；/hello 在 {roundTrip} 毫秒内返回。', brokerSays: '服务器说明', nextStep: '下一步',
    details: '技术细节', serverChain: '服务器证书链', clientId: '客户端 ID', password: '密码',
    mqttVersion: 'MQTT 版本', serverVerification: '服务器验证', certdeskRoot: 'Certdesk 根证书', system: '系统证书库',
    pasted: '粘贴 PEM', off: '关闭（不安全）', offWarning: '不验证服务器时，任何人都可以冒充消息服务器。',
    serverName: '服务器名称（SNI）', minVersion: '最低 TLS 版本', clientAuth: '客户端认证', none: '无',
    certdeskCertificate: 'Certdesk 中的证书', caPem: 'CA 证书（PEM）', certificatePem: '证书（PEM）',
    keyPem: '私钥（PEM）', keyPassphrase: '私钥口令', testDevice: '测试连接',
  },
  authority: {
    title: '根证书', rootCa: '根 CA', subject: '主题', keyProtection: '密钥保护',
    passphrase: '口令（scrypt）', keyfile: '密钥文件，仅所有者可读', dataDir: '数据目录',
    broker: '内置消息服务器', state: '状态', running: '运行中', stopped: '已停止', listening: '监听',
    notListening: '未监听', serverCertificate: '服务器证书', names: '名称', sessions: '已连接客户端',
    log: '连接日志', result: '结果', reason: '原因', time: '时间', listener: '端口', clientId: '客户端 ID',
  },
}

export default zhCN
