# Test certificates made with openssl for the TLS integration tests.
# Sourced after lib/agent_harness.sh: skips the test (exit 77) without
# openssl, makes C=$T/certs and changes into it (`cd - > /dev/null` returns).
# mkca NAME CN: a self-signed CA, NAME.key + NAME.crt (P-256, 2 days).
# mkcert NAME CA_NAME CN [SAN]: NAME.key + NAME.crt (P-256, 2 days) signed by
# CA_NAME.key/CA_NAME.crt in the current directory; SAN as for
# subjectAltName ("IP:127.0.0.1,DNS:localhost").
command -v openssl > /dev/null || { echo "SKIP: openssl not installed"; exit 77; }
C="$T/certs"
mkdir -p "$C"
cd "$C" || exit 1
mkca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -subj "/CN=$2" -days 2 -out "$1.crt" 2> /dev/null
}
mkcert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -subj "/CN=$3" -out "$1.csr" 2> /dev/null
  if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" > "$1.ext"; else : > "$1.ext"; fi
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" 2> /dev/null
}
