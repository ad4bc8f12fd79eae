// QR sign-in's part of the account app (README, "Writing a plugin" -> "Frontend part").
// A placeholder: the login option and the /qr approve page are registered here.
export function register(host) {}
