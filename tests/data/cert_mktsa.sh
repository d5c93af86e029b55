#!/bin/sh
# cert_mktsa.sh PKI: a local RFC 3161 time-stamping authority for tests.
# PKI is a directory certs/mkca wrote (ca.key, ca.pem).  Adds tsa.key, tsa.pem
# (extendedKeyUsage critical,timeStamping, signed by the CA), tsa.cnf, and
# tsa-command: a script that reads a TimeStampReq on stdin and prints the
# TimeStampResp, for lethe.conf's `[signing] tsa_command`.
set -eu
pki=$(cd "$1" && pwd)
cd "$pki"
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tsa.key 2>/dev/null
openssl req -new -key tsa.key -subj "/O=Test TSA/CN=test time-stamping authority" -out tsa.csr
printf '%s\n' 'basicConstraints = critical, CA:false' \
    'keyUsage = critical, digitalSignature' \
    'extendedKeyUsage = critical, timeStamping' >tsa.ext
openssl x509 -req -sha256 -in tsa.csr -CA ca.pem -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile tsa.ext \
    -out tsa.pem 2>/dev/null
echo 01 >tsaserial
cat >tsa.cnf <<CNF
[tsa]
default_tsa = tsa1
[tsa1]
serial = $pki/tsaserial
crypto_device = builtin
signer_cert = $pki/tsa.pem
certs = $pki/ca.pem
signer_key = $pki/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
cat >tsa-command <<CMD
#!/bin/sh
exec openssl ts -reply -config '$pki/tsa.cnf' -queryfile /dev/stdin -out /dev/stdout 2>/dev/null
CMD
chmod 0755 tsa-command
chmod 0644 tsa.pem tsa.cnf
