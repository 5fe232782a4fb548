"""Week 3 answers: saving and loading."""

from answer_banks import Exercise, concept

_TRAIN = '''
helpers.set_seed({seed})
model = build_model()
history = model.fit(x_train, y_train, epochs={epochs}, batch_size=32, {validation}, verbose=0,
                    callbacks={callbacks})
'''


def _train(seed=0, epochs=6, validation="validation_split=0.1",
           callbacks="[make_epoch_checkpoint(WORK_DIR), make_best_checkpoint(WORK_DIR)]"):
    return _TRAIN.format(seed=seed, epochs=epochs, validation=validation, callbacks=callbacks)


_SAVE = '''
def save_and_reload(model, path):
    {check_before}
    model.save(path)
    {check_after}
    return {load}
'''
_CHECK = 'if not str(path).endswith(".keras"):\n        raise ValueError(f"want a .keras path, got {path}")'


def _save(check_before=_CHECK, check_after="", load="keras.models.load_model(path)"):
    return _SAVE.format(check_before=check_before, check_after=check_after, load=load)


_RESUME = '''
def resume_training(path, images, labels, epochs):
    {load}
    model.fit(images, labels, epochs={epochs}, batch_size=32, verbose=0)
    {save}
    return model
'''


def _resume(load="model = keras.models.load_model(path)", epochs="epochs", save="model.save(path)"):
    return _RESUME.format(load=load, epochs=epochs, save=save)


_LIST = '''
def list_weights(path):
    layers = {{}}
    with h5py.File(path, "r") as file:
        for name in file["layers"]:
            variables = file["layers"][name]["vars"]
            shapes = [{shape} for index in {order}]
            if shapes or {keep_empty}:
                layers[name] = shapes
    return layers
'''


def _list(shape="tuple(variables[index].shape)", order="sorted(variables, key=int)", keep_empty=False):
    return _LIST.format(shape=shape, order=order, keep_empty=keep_empty)


# Exercise 8's plans: a state is about 309 KB and the budget 1.6 MB, so at most 4 kept (the
# state being written is a fifth); a crash may cost 3 epochs; a state 6 epochs old is needed.
_STATES = '''
SAVE_EVERY = {every}
KEEP = {keep}


def make_state_manager(model, folder):
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    return tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=KEEP)
'''


def _states(every, keep):
    return _STATES.format(every=every, keep=keep)


EXERCISES = {
    "w3_make_epoch_checkpoint": Exercise(
        correct={
            "os.path.join and {epoch:02}": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "epoch_{epoch:02}.weights.h5"),
                                           save_weights_only=True)
''',
            "f-string with escaped braces": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(filepath=f"{folder}/epoch_{{epoch:02d}}.weights.h5",
                                           save_weights_only=True, save_freq="epoch", verbose=False)
''',
        },
        wrong={
            "no zero padding": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "epoch_{epoch}.weights.h5"), save_weights_only=True)
''',
            "one file for every epoch": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "epoch.weights.h5"), save_weights_only=True)
''',
            "three digits": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "epoch_{epoch:03d}.weights.h5"), save_weights_only=True)
''',
            "prints a line per save": '''
def make_epoch_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "epoch_{epoch:02d}.weights.h5"),
                                           save_weights_only=True, verbose=1)
''',
        },
    ),
    "w3_make_best_checkpoint": Exercise(
        correct={
            "mode left at auto": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.weights.h5"), monitor="val_accuracy",
                                           save_best_only=True, save_weights_only=True)
''',
            "a Path": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(Path(folder) / "best.weights.h5", monitor="val_accuracy", mode="max",
                                           save_best_only=True, save_weights_only=True, save_freq="epoch", verbose=0)
''',
        },
        wrong={
            "monitors val_loss": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.weights.h5"), save_best_only=True, save_weights_only=True)
''',
            "min mode": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.weights.h5"), monitor="val_accuracy", mode="min",
                                           save_best_only=True, save_weights_only=True)
''',
            "saves every epoch": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.weights.h5"), monitor="val_accuracy",
                                           save_weights_only=True)
''',
            "monitors the training accuracy": '''
def make_best_checkpoint(folder):
    return keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.weights.h5"), monitor="accuracy",
                                           save_best_only=True, save_weights_only=True)
''',
        },
    ),
    "w3_train": Exercise(
        before="shutil.rmtree(WORK_DIR, ignore_errors=True)\nWORK_DIR.mkdir()",
        correct={
            "another seed, callbacks in the other order": _train(
                seed=1, callbacks="[make_best_checkpoint(WORK_DIR), make_epoch_checkpoint(WORK_DIR)]"),
            "callbacks made first": '''
every_epoch, best_only = make_epoch_checkpoint(WORK_DIR), make_best_checkpoint(WORK_DIR)
helpers.set_seed(0)
model = build_model()
history = model.fit(x=x_train, y=y_train, batch_size=32, epochs=6, verbose=0, validation_split=0.1,
                    shuffle=True, callbacks=[every_epoch, best_only])
''',
        },
        wrong={
            "five epochs": _train(epochs=5),
            "best epoch chosen on the test set": _train(validation="validation_data=(x_test, y_test)"),
            "only the best checkpoint": _train(callbacks="[make_best_checkpoint(WORK_DIR)]"),
            "no validation": _train(validation="shuffle=True"),
        },
    ),
    "w3_restore_weights": Exercise(
        correct={
            "the lowest validation loss, as a NumPy integer": '''
def choose_epoch(history):
    return np.argmin(history["val_loss"]) + 1

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
            "the lowest validation loss after the first three epochs, os.fspath": '''
def choose_epoch(history):
    losses = list(history["val_loss"])
    start = min(3, len(losses) - 1)
    return start + losses[start:].index(min(losses[start:])) + 1

def restore_checkpoint(folder, epoch):
    fresh = build_model()
    fresh.load_weights(os.fspath(os.path.join(folder, "epoch_%02d.weights.h5" % epoch)))
    return fresh
''',
            "the lowest of an exponential moving average, in pure Python": '''
def choose_epoch(history):
    value, smoothed = history["val_loss"][0], []
    for loss in history["val_loss"]:
        value = 0.6 * value + 0.4 * loss
        smoothed.append(value)
    return smoothed.index(min(smoothed)) + 1

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
        },
        wrong={
            "the last epoch": '''
def choose_epoch(history):
    return len(history["val_loss"])

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
            "the lowest training loss": '''
def choose_epoch(history):
    return int(np.argmin(history["loss"])) + 1

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
            "a fixed epoch, 40 or the last": '''
def choose_epoch(history):
    return min(40, len(history["val_loss"]))

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
            "the highest validation accuracy": '''
def choose_epoch(history):
    return int(np.argmax(history["val_accuracy"])) + 1

def restore_checkpoint(folder, epoch):
    restored = build_model()
    restored.load_weights(str(Path(folder) / f"epoch_{epoch:02d}.weights.h5"))
    return restored
''',
            "loads into the trained model": '''
def choose_epoch(history):
    return int(np.argmin(history["val_loss"])) + 1

def restore_checkpoint(folder, epoch):
    model.load_weights(Path(folder) / f"epoch_{epoch:02d}.weights.h5")
    return model
''',
            "never loads": '''
def choose_epoch(history):
    return int(np.argmin(history["val_loss"])) + 1

def restore_checkpoint(folder, epoch):
    return build_model()
''',
        },
    ),
    # A legacy .h5 save (a wrong answer) changes the model: a later .keras save loses the
    # optimizer's step count (Keras 3.15), so each answer gets a freshly trained model.
    "w3_save_and_reload": Exercise(
        rerun=("w3_train",),
        before='(WORK_DIR / "digits.h5").unlink(missing_ok=True)',
        correct={
            "pathlib suffix and keras.models functions": '''
def save_and_reload(model, path):
    if Path(path).suffix != ".keras":
        raise ValueError(f"expected a .keras file, received {path}")
    keras.models.save_model(model, path)
    return keras.models.load_model(path)
''',
            "os.fspath and overwrite": _save(
                check_before='if not os.fspath(path).endswith(".keras"):\n        raise ValueError("not a .keras path: " + str(path))',
                load="tf.keras.models.load_model(path, compile=True)"),
        },
        wrong={
            "checks the path after saving": _save(check_before="", check_after=_CHECK),
            "no path check": _save(check_before=""),
            "returns the original": _save(load="model"),
            "reloads without the optimizer": _save(load="keras.models.load_model(path, compile=False)"),
        },
    ),
    "w3_resume_training": Exercise(
        correct={
            "keras.models functions": _resume(load="model = keras.models.load_model(path)",
                                    save="keras.models.save_model(model, path)"),
            "str path": _resume(load="model = tf.keras.models.load_model(str(path))", save="model.save(str(path))"),
        },
        wrong={
            "recompiles after loading": _resume(load=(
                'model = keras.models.load_model(path)\n'
                '    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])')),
            "does not save": _resume(save="pass"),
            "starts from a new model": _resume(load="model = build_model()"),
            "one epoch": _resume(epochs=1),
        },
    ),
    "w3_list_weights": Exercise(
        correct={
            "by index": _list(order="range(len(variables))", shape="tuple(variables[str(index)].shape)"),
            "visititems": '''
import re

def list_weights(path):
    found = {}
    def visit(name, item):
        match = re.fullmatch(r"layers/([^/]+)/vars/(\\d+)", name)
        if match and isinstance(item, h5py.Dataset):
            found.setdefault(match[1], []).append((int(match[2]), item.shape))
    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return {layer: [tuple(shape) for _, shape in sorted(entries)] for layer, entries in found.items()}
''',
        },
        wrong={
            "indexes sorted as text": _list(order="sorted(variables)"),
            "layers without variables kept": _list(keep_empty=True),
            "shapes as lists": _list(shape="list(variables[index].shape)"),
        },
    ),
    "w3_concept_weights_file": concept(
        "weights_file_choice", correct=['"B"', '"b"'], wrong=['"A"', '"C"', '"D"', '"model.weights.h5"']),
    "w3_concept_best_epoch": concept(
        "checkpoint_epoch", correct=["4", "np.int32(4)"], wrong=["5", "3", "2", "True", "4.0"]),
    "w3_concept_export": concept(
        "serving_choice", correct=['"B"', '" B"'], wrong=['"A"', '"C"', '"D"', '"export"']),
    "w3_state_manager": Exercise(
        correct={
            "every 2 epochs, keep 4": _states(every=2, keep=4),
            "every 3 epochs, keep 4, keywords and a Path": '''
SAVE_EVERY, KEEP = 3, 4


def make_state_manager(model, folder):
    return tf.train.CheckpointManager(
        checkpoint=tf.train.Checkpoint(optimizer=model.optimizer, model=model), directory=folder,
        max_to_keep=KEEP, checkpoint_name="ckpt")
''',
            "every 3 epochs, keep 3, reasoned in code": '''
state = 309_127  # bytes of one state, from a scratch save
KEEP = DISK_BUDGET // state - 1  # the new state is written before the oldest goes
SAVE_EVERY = MAX_EPOCHS_LOST
KEEP = min(KEEP, 1 + -(-ROLLBACK_EPOCHS // SAVE_EVERY))  # no more than the rollback needs


def make_state_manager(model, folder):
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    return tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=KEEP)
''',
        },
        wrong={
            "keep 5: the state being written forgotten": _states(every=2, keep=5),
            "keep 2: rolls back only 3 epochs": _states(every=3, keep=2),
            "every 6 epochs: a crash costs 6": _states(every=6, keep=2),
            "every epoch, keep 6: too much disk, too little history": _states(every=1, keep=6),
            "every 2 epochs, keep 3: rolls back only 4": _states(every=2, keep=3),
            "the manager keeps 5 whatever KEEP says": _states(every=3, keep=3).replace(
                "max_to_keep=KEEP", "max_to_keep=5"),
            "the numbers as strings": _states(every='"3"', keep=3),
            "states in a subfolder": _states(every=3, keep=3).replace(
                "str(folder)", 'str(Path(folder) / "ckpt")'),
        },
        before="shutil.rmtree(WORK_DIR / 'states', ignore_errors=True)\n",
    ),
    "w3_export_for_serving": Exercise(
        correct={
            "functional wrapper": '''
def export_for_serving(model, folder):
    model.export(str(folder), verbose=False)
    inputs = keras.Input(shape=(28, 28))
    return keras.Model(inputs, keras.layers.TFSMLayer(str(folder), call_endpoint="serve")(inputs))
''',
            "Sequential wrapper, Path": '''
def export_for_serving(model, folder):
    model.export(folder, verbose=False)
    return keras.Sequential([keras.Input(shape=(28, 28)),
                             keras.layers.TFSMLayer(folder, call_endpoint="serve")])
''',
        },
        wrong={
            "returns the original": '''
def export_for_serving(model, folder):
    model.export(str(folder), verbose=False)
    return model
''',
            "a .keras copy, no SavedModel": '''
def export_for_serving(model, folder):
    Path(folder).mkdir(parents=True, exist_ok=True)
    model.save(Path(folder) / "model.keras")
    return keras.models.load_model(Path(folder) / "model.keras")
''',
            "serves a fresh model": '''
def export_for_serving(model, folder):
    fresh = build_model()
    fresh.export(str(folder), verbose=False)
    inputs = keras.Input(shape=(28, 28))
    return keras.Model(inputs, keras.layers.TFSMLayer(str(folder), call_endpoint="serve")(inputs))
''',
        },
        before="shutil.rmtree(WORK_DIR / 'served', ignore_errors=True)\n",
    ),
}
