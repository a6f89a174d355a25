// The teams screens, loaded on first visit (lazy in App.tsx) so the canvas's bundle does not carry them.
export { SignUp } from './SignUp'
export { AcceptInvite } from './AcceptInvite'
export { ResetPassword } from './ResetPassword'
export { Members } from './Members'
export { Account } from './Account'
export { Tokens } from './Tokens'
export { WorkspaceSettings } from './WorkspaceSettings'
export { Admin } from './Admin'
