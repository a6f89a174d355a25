"""The vault's envelope encryption: a fresh data key per seal, bound to tenant and credential,
opened by the current or a previous key, re-wrapped without touching the sealed secret."""

from __future__ import annotations

import pytest

from backend.credentials.envelope import Keyring, Sealed, VaultKeyError

FIELDS = {"password": "correct horse battery staple"}


def test_a_seal_opens_with_the_same_key_tenant_and_credential():
    """Round trip: what was sealed comes back."""
    keys = Keyring("k1")
    assert keys.open("t1", "c1", keys.seal("t1", "c1", FIELDS)) == FIELDS


def test_each_seal_uses_a_fresh_data_key():
    """Sealing the same fields twice gives different ciphertexts and wrapped keys."""
    keys = Keyring("k1")
    a, b = keys.seal("t1", "c1", FIELDS), keys.seal("t1", "c1", FIELDS)
    assert a.secret != b.secret and a.wrapped_key != b.wrapped_key and a.key_version == b.key_version


@pytest.mark.parametrize(("tenant", "credential"), [("t2", "c1"), ("t1", "c2")])
def test_a_row_copied_to_another_tenant_or_credential_does_not_open(tenant, credential):
    """Tenant id and credential id are associated data: a copied row is refused."""
    keys = Keyring("k1")
    with pytest.raises(VaultKeyError):
        keys.open(tenant, credential, keys.seal("t1", "c1", FIELDS))


def test_an_altered_secret_is_refused():
    """Flipping one character of the sealed secret fails authentication."""
    keys = Keyring("k1")
    s = keys.seal("t1", "c1", FIELDS)
    flipped = s.secret[:-3] + ("A" if s.secret[-3] != "A" else "B") + s.secret[-2:]
    with pytest.raises(VaultKeyError):
        keys.open("t1", "c1", Sealed(flipped, s.wrapped_key, s.key_version))


def test_previous_keys_open_and_the_current_one_seals():
    """A keyring with k1 as previous opens k1's seals; rewrap moves them to k2 without changing the secret."""
    old, new = Keyring("k1"), Keyring("k2", ("k1",))
    sealed = old.seal("t1", "c1", FIELDS)
    with pytest.raises(VaultKeyError):
        Keyring("k2").open("t1", "c1", sealed)
    assert new.open("t1", "c1", sealed) == FIELDS
    moved = new.rewrap("t1", "c1", sealed)
    assert moved.secret == sealed.secret and moved.key_version == new.current_id != sealed.key_version
    assert Keyring("k2").open("t1", "c1", moved) == FIELDS
    with pytest.raises(VaultKeyError):
        old.open("t1", "c1", moved)


def test_the_key_version_is_a_fingerprint_not_the_key():
    """key_version identifies the key (same key, same id) and does not contain it."""
    assert Keyring("k1").current_id == Keyring("k1").current_id != Keyring("k2").current_id
    assert "k1" not in Keyring("k1").current_id and len(Keyring("k1").current_id) == 16
