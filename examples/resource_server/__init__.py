"""An example resource server: trusts the auth service's tokens with its public keys only."""
