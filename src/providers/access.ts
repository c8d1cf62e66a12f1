import type { Role, Viewer } from '../auth/tokens.js';
import type { Context } from '../context.js';
import { forbidden, unauthenticated } from '../errors.js';

// Who may do what: the checks both the read side (previews, revisions) and
// the editing side make before they touch the store.

/** The viewer, who must hold a token with one of `roles`; what follows is for them alone, so the response becomes private. */
export function requireRole(context: Context, roles: readonly Role[] = ['EDITOR', 'ADMIN']): Viewer {
  const { viewer } = context;
  if (!viewer) throw unauthenticated('this needs an editor token: send Authorization: Bearer <token>');
  if (!roles.includes(viewer.role)) {
    throw forbidden(`this needs a token with the role ${roles.join(' or ')}; "${viewer.name}" is ${viewer.role}`);
  }
  context.private = true;
  return viewer;
}

/** `preview: true` asks to see hidden articles: editors only, and the response becomes private. */
export function allowPreview(context: Context, preview: boolean | null | undefined): boolean {
  if (!preview) return false;
  requireRole(context);
  return true;
}
