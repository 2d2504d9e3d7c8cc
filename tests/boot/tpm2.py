"""TPM2 tokens as systemd writes them (issue 24). The members are copies
of CRYPT2's, enrolled by the host's systemd-cryptenroll against swtpm
(tests/make-fixtures.sh: tpm2-state/); the guest gets a TPM on a copy of
that state (qemu_harness.run(tpm=)). This step reads the tokens; the
unseal is to come, so the passphrase still opens them, after a line that
says why."""
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)

WHY = (r"luks-%s: the passphrase opens it: TPM2 token 0 \(keyslot \d+\) "
       r"found, but this luksinit cannot unseal TPM2 tokens yet")


@case
def tpm2_tokens_read_then_passphrase():
    b = boot("tpm2_tokens_read_then_passphrase",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["tpm2-a.img", "tpm2-b.img"], tpm="tpm2-state",
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=60)
    assert_array(b, "CRYPT2", 2)
    expect(b.result("tpm=") == "tpm= tpm0",
           "the guest did not see the harness's TPM: " + b.result("tpm="))
    print("guest PCRs (SHA-256, first bytes): " + b.result("pcrs-sha256="))
    prompt = re.search(SHARED_PROMPT, b.out)
    for i in range(2):
        why = re.search(WHY % luks_uuid("CRYPT2", i), b.out)
        expect(why, "no line saying why the TPM did not open member %d" % i)
        expect(why.start() < prompt.start(),
               "member %d: the reason came after the prompt" % i)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
