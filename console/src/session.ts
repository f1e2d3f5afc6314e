/** The admin token lives in this tab's sessionStorage only: gone when the tab closes, never in a URL. */
const KEY = 'dmp-console-admin-token';

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
