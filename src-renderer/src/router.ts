import { createRouter, createWebHashHistory } from 'vue-router'
import NotFound from './components/NotFound.vue'

// Hash history: routes live after the #, so app:// (Electron) and the loopback server only ever load index.html.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/certificates' },
    { path: '/certificates', component: () => import('./views/CertificatesView.vue') },
    { path: '/certificates/:id', component: () => import('./views/CertificateDetailView.vue'), props: true },
    { path: '/devices', component: () => import('./views/DevicesView.vue') },
    { path: '/devices/:id', component: () => import('./views/DeviceDetailView.vue'), props: true },
    { path: '/authority', component: () => import('./views/AuthorityView.vue') },
    { path: '/tester', component: () => import('./views/TesterView.vue') },
    // Any other address names no screen: say so, with a way back, rather than show nothing.
    { path: '/:unknown(.*)*', component: NotFound, props: { kind: 'page' } },
  ],
})
