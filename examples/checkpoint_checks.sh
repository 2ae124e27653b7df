#!/bin/sh
# End-to-end checks of fashion_mnist's checkpoints, run by ctest (exit 77: skipped, because
# Fashion-MNIST is not installed). Each works in a fresh DIR.
#
#   checkpoint_checks.sh exact PROGRAM DIR   3 epochs straight, and 2 epochs then 1 more resumed
#                                            in a new process, export byte-identical .npy weights
#                                            (dropout on, so its random stream must round-trip)
#   checkpoint_checks.sh kill PROGRAM DIR    kill -9 during epoch 2; the checkpoint left behind
#                                            is at most one epoch behind what the run printed,
#                                            --resume finishes all 3 epochs, its last checkpoint
#                                            loads, and damaged copies of it are refused (exit 1)
set -u
mode=$1 program=$2 dir=$3
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "no $data: sudo apt-get install dataset-fashion-mnist"
  exit 77
fi
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
fail() {
  echo "FAIL: $*"
  for log in *.log; do [ -f "$log" ] && { echo "---- $log"; cat "$log"; }; done
  exit 1
}

# Runs PROGRAM with the rest of the arguments and passes when it exits with status 1 (not a
# signal) and says $expect on stderr.
expect_refusal() {
  expect=$1
  shift
  "$program" "$@" > refused.out 2> refused.err
  status=$?
  [ $status -eq 1 ] || fail "$* exited with status $status, expected 1: $(cat refused.err)"
  grep -q "$expect" refused.err || fail "$*: stderr does not say '$expect': $(cat refused.err)"
  echo "refused as expected: $(cat refused.err)"
}

case $mode in
exact)
  flags="--train-subset 1000 --hidden 32 --batch-size 50"
  "$program" $flags --epochs 3 --export-npy straight > straight.log 2>&1 || fail "the straight run failed"
  "$program" $flags --epochs 2 --checkpoint run.ckpt > first.log 2>&1 || fail "the first 2 epochs failed"
  "$program" $flags --epochs 3 --resume run.ckpt --export-npy resumed > resumed.log 2>&1 ||
    fail "the resumed run failed"
  grep -q "resuming from run.ckpt: 2 of 3 epochs done" resumed.log || fail "it did not resume at epoch 2"
  [ "$(grep -c '^epoch [0-9]*/3' resumed.log)" -eq 1 ] || fail "the resumed run did not train exactly 1 epoch"
  files=0
  for f in straight/*.npy; do
    cmp "$f" "resumed/${f#straight/}" || fail "$f: the resumed run's weights differ"
    files=$((files + 1))
  done
  [ $files -eq 4 ] || fail "expected 4 .npy files (2 dense layers), found $files"
  echo "3 epochs straight and 2 + 1 resumed give the same bytes in all $files weight files"
  ;;
kill)
  flags="--train-subset 4000 --epochs 3"
  "$program" $flags --checkpoint run.ckpt > killed.log 2>&1 &
  pid=$!
  waited=0
  while [ ! -f run.ckpt ]; do  # the first checkpoint: epoch 1 is done
    sleep 0.05
    waited=$((waited + 1))
    if [ $waited -gt 2400 ]; then
      kill -9 $pid
      fail "no checkpoint after 120 s"
    fi
  done
  sleep 0.1
  kill -9 $pid
  wait $pid
  status=$?
  [ $status -eq 137 ] || fail "the run ended with status $status before it was killed (epochs too short?)"
  printed=$(grep -c '^epoch [0-9]*/3' killed.log)
  "$program" $flags --checkpoint run.ckpt --resume run.ckpt --json resumed.json > resumed.log 2>&1 ||
    fail "resuming after the kill failed"
  from=$(sed -n 's/^resuming from run.ckpt: \([0-9]*\) of 3 epochs done$/\1/p' resumed.log)
  [ -n "$from" ] || fail "the resumed run did not say where it started"
  [ "$from" -ge 1 ] && [ "$from" -ge $((printed - 1)) ] ||
    fail "the killed run printed $printed epochs but its checkpoint holds $from"
  [ "$(grep -c '"epoch":' resumed.json)" -eq 3 ] || fail "resumed.json does not have 3 epochs"
  "$program" $flags --resume run.ckpt > again.log 2>&1 || fail "the final checkpoint does not load"
  grep -q "resuming from run.ckpt: 3 of 3 epochs done" again.log || fail "the final checkpoint is not at epoch 3"
  echo "killed after $printed printed epochs; resumed from epoch $from; finished 3 epochs"

  head -c 1000 run.ckpt > truncated.ckpt
  expect_refusal "is truncated" --resume truncated.ckpt
  cp run.ckpt flipped.ckpt
  printf '\377' | dd of=flipped.ckpt bs=1 seek=41 conv=notrunc 2> /dev/null  # the layer count
  expect_refusal "bad checksum" --resume flipped.ckpt
  expect_refusal "holds another network" $flags --hidden 128 --resume run.ckpt
  expect_refusal "does not fit the trainer" $flags --optimizer sgd --resume run.ckpt
  # Everything else that shapes the run is stored too and must match.
  expect_refusal "batch_size=64" $flags --batch-size 32 --resume run.ckpt
  expect_refusal "loss=cross_entropy" $flags --loss mse --resume run.ckpt
  expect_refusal "seed=0" $flags --seed 1 --resume run.ckpt
  ;;
*)
  echo "checkpoint_checks.sh: unknown mode '$mode'"
  exit 2
  ;;
esac
