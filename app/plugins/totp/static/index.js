// Two-step sign-in's part of the account app (README, "Writing a plugin" -> "Frontend part").
export function register(host) {}
