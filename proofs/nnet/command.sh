# Run from inside proofs/nnet (with exactrelu on PATH): bash command.sh
# net.nnet is the input; net.json is its exact conversion (normalisation folded in), which --model needs
exactrelu convert net.nnet net.json
exactrelu shallow net.nnet -o shallow.json
exactrelu check shallow.cert.json --model net.json
exactrelu report shallow.cert.json --model net.json -o proof.md
