# Run from inside proofs/three-inputs (with exactrelu on PATH): bash command.sh
exactrelu shallow net.json --box=-1:1 -o shallow.json
exactrelu check shallow.cert.json --model net.json
exactrelu report shallow.cert.json --model net.json -o proof.md
