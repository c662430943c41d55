// A connection's settings page: #/connections/<id>/settings.
import { h } from '../dom.js';
import { PMSSettingsPanel } from '../components/PMSSettingsPanel.js';

export function mount(root, { args, app }) {
  const panel = PMSSettingsPanel({ connectionId: args.id, app });
  root.append(h('div', { class: 'page' }, panel.el));
  return { unmount: () => panel.unmount() };
}
