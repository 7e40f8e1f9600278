"""A converter conflict blames the listed layers at the conflicting tensor, not the whole list.

The bug: on a two-input model whose second input the engine leaves float, raising the Add that
input feeds makes the engine log "There's a conflict to quantize tensor @bias_8:out0" and apply
none of the list; the tune counted every listed layer as refused, dropped them all and ended
with "the engine applied the qtype to none of the candidates" (tests/engine/
test_two_inputs_engine.py runs it on the real engine)."""

import json

from quanted.core.tune.runner import conflict_culprits

# The layers of tests/engine/build_twoin.py as acuitylite 6.57.1 imports it.
LAYERS = {
    "attach_probs/out0_0": {"op": "output", "inputs": ["@probs_1:out0"]},
    "probs_1": {"op": "softmax", "inputs": ["@Add_output_0_2:out0"]},
    "Add_output_0_2": {"op": "add", "inputs": ["@fc/Gemm_output_0_3:out0", "@bias_8:out0"]},
    "fc/Gemm_output_0_3": {"op": "fullconnect", "inputs": ["@Flatten_output_0_4:out0"]},
    "Flatten_output_0_4": {"op": "reshape", "inputs": ["@perm_9:out0"]},
    "perm_9": {"op": "permute", "inputs": ["@image_7:out0"]},
    "image_7": {"op": "input", "inputs": []},
    "bias_8": {"op": "input", "inputs": []},
}
CONFLICT = [
    "E 12:04:25 There's a conflict to quantize tensor @bias_8:out0",
    "W 12:04:25 Optimze quantization->qnt_insert_converter_layer error: (\"There's a conflict "
    "to quantize tensor @bias_8:out0\", None)!",
]


def model(tmp_path):
    path = tmp_path / "twoin.json"
    path.write_text(json.dumps({"Layers": LAYERS}))
    return path


def test_a_conflict_on_a_float_input_blames_the_layer_it_feeds_not_the_whole_list(tmp_path):
    wanted = {"fc/Gemm_output_0_3", "Flatten_output_0_4", "Add_output_0_2", "image_7"}
    assert conflict_culprits(CONFLICT, wanted, model(tmp_path)) == {"Add_output_0_2"}


def test_a_conflict_blames_the_listed_producer_and_readers_of_the_tensor(tmp_path):
    # the sample's case: a layout chain raised in part (rank.ties keeps tune from doing it)
    line = "E 10:00:00 There's a conflict to quantize tensor @perm_9:out0"
    assert conflict_culprits([line], {"perm_9", "fc/Gemm_output_0_3"},
                             model(tmp_path)) == {"perm_9"}
    assert conflict_culprits([line], {"Flatten_output_0_4"},
                             model(tmp_path)) == {"Flatten_output_0_4"}


def test_no_conflict_or_no_model_blames_nobody(tmp_path):
    wanted = {"Add_output_0_2"}
    assert conflict_culprits(["E 10:00:00 something else"], wanted, model(tmp_path)) == set()
    assert conflict_culprits(CONFLICT, wanted, tmp_path / "missing.json") == set()
