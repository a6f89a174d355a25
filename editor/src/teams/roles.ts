// The three roles of a workspace, in the order the selects offer them.
import type { Role } from '../api/types'

export const ROLES: Role[] = ['owner', 'editor', 'viewer']
export const ROLE_HINT: Record<Role, string> = {
  owner: 'manages members and settings', editor: 'edits and runs', viewer: 'reads',
}
