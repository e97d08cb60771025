# Run from inside proofs/max (with exactrelu on PATH): bash command.sh
exactrelu shallow net.json -o shallow.json
exactrelu check shallow.cert.json --model net.json
exactrelu report shallow.cert.json --model net.json -o proof.md
