// The setup wizard's page: #/setup (a new connection) or #/setup/<connectionId> (resume).
import { h } from '../dom.js';
import { PMSSetupWizard } from '../components/PMSSetupWizard.js';

export function mount(root, { args, app }) {
  const wizard = PMSSetupWizard({ connectionId: args.id || null, app });
  root.append(h('div', { class: 'page page--narrow' },
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/connections' }, '‹ Connections')),
    h('h1', {}, 'Connect a PMS'),
    wizard.el));
  return {
    unmount: () => wizard.unmount(),
    // #/setup → #/setup/<id> once the draft exists: the wizard changed the address itself.
    update: () => true,
  };
}
