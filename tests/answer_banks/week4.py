"""Week 4 answers: transfer learning."""

from answer_banks import Exercise, concept

_HEAD = '''
helpers.set_seed({seed})
extractor = make_feature_extractor(pretrained.load_base_network())
{freeze}
model = compile_for_transfer(build_transfer_model(extractor), 0.01)
model.fit({x}, {y}, epochs={epochs}, batch_size=32, verbose=0)
head_accuracy = {accuracy}
'''


def _head(seed=0, freeze="", x="x_few", y="y_few", epochs=30,
          accuracy='model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]'):
    return _HEAD.format(seed=seed, freeze=freeze, x=x, y=y, epochs=epochs, accuracy=accuracy)


_UNFREEZE = '''
def unfreeze_top(extractor, first_layer="conv_2"):
    {whole}
    names = [layer.name for layer in extractor.layers]
    start = names.index({first}){offset}
    for index, layer in enumerate(extractor.layers):
        layer.trainable = index >= start{batch_norm}
'''


def _unfreeze(whole="extractor.trainable = True", first="first_layer", offset="",
              batch_norm=" and not isinstance(layer, keras.layers.BatchNormalization)"):
    return _UNFREEZE.format(whole=whole, first=first, offset=offset, batch_norm=batch_norm)


_COMPILE = {
    "loss and metric objects": '''
def compile_for_transfer(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model
''',
    "loss function": '''
def compile_for_transfer(model, learning_rate):
    model.compile(tf.keras.optimizers.Adam(learning_rate=learning_rate),
                  keras.losses.sparse_categorical_crossentropy, metrics=["accuracy"])
    return model
''',
    "optimiser from its settings": '''
def compile_for_transfer(model, learning_rate):
    settings = {"learning_rate": learning_rate}
    optimiser = keras.optimizers.Adam(**settings)
    model.compile(optimizer=optimiser, loss=keras.losses.get("sparse_categorical_crossentropy"),
                  metrics=["accuracy"])
    return model
''',
}
_COMPILE_WRONG = {
    "from_logits on a softmax model": '''
def compile_for_transfer(model, learning_rate):
    model.compile(keras.optimizers.Adam(learning_rate), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
''',
    "one-hot loss": '''
def compile_for_transfer(model, learning_rate):
    model.compile(keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
    "default learning rate": '''
def compile_for_transfer(model, learning_rate):
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''',
    "returns nothing": '''
def compile_for_transfer(model, learning_rate):
    model.compile(keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
''',
}


def _decay(strength):
    return f"head_weight_decay = {strength}\n"


_AUGMENT = '''
def augment(images, labels):
{body}
'''


def _augment(body):
    return _AUGMENT.format(body=body)


_BEAT = '''
fine_tune_choice = {{"first_layer": "{first}", "learning_rate": {rate}, "epochs": {epochs}}}
helpers.set_seed({seed})
{tune}
fine_tuned_accuracy = {accuracy}
'''
_AS_CHOSEN = ("unfreeze_top(extractor, first_layer=fine_tune_choice['first_layer'])\n"
              "compile_for_transfer(model, fine_tune_choice['learning_rate'])\n"
              "model.fit(x_few, y_few, epochs=fine_tune_choice['epochs'], batch_size=32, verbose=0)")

_BY_HAND = ("extractor.trainable = True\n"
            "for layer in extractor.layers:\n"
            "    layer.trainable = layer.name == 'conv_2'\n"
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),\n"
            "              loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
            "model.fit(x_few, y_few, epochs=15, batch_size=32, verbose=0)")


def _beat(first="conv_2", rate=1e-3, epochs=15, seed=0, tune=_AS_CHOSEN,
          accuracy='model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]'):
    return _BEAT.format(first=first, rate=rate, epochs=epochs, seed=seed, tune=tune, accuracy=accuracy)


EXERCISES = {
    "w4_prepare_digits": Exercise(
        correct={
            "mask check, divide after the channel axis": '''
def prepare_digits(images, labels):
    labels = np.asarray(labels)
    if np.any((labels < 5) | (labels > 9)):
        raise ValueError(f"labels must be digits 5-9, got {sorted(set(labels.tolist()))}")
    return np.asarray(images).astype("float32")[..., None] / 255.0, labels - 5
''',
            "remainder by 5": '''
def prepare_digits(images, labels):
    labels = np.asarray(labels)
    if not np.all((labels >= 5) & (labels <= 9)):
        raise ValueError(f"labels must be 5-9, got {labels}")
    return (np.asarray(images, dtype=np.float32) / 255)[:, :, :, np.newaxis], labels % 5
''',
            "set check and expand_dims": '''
def prepare_digits(images, labels):
    if not set(np.unique(labels).tolist()) <= {5, 6, 7, 8, 9}:
        raise ValueError("expected only the digits 5 to 9")
    x = np.expand_dims(np.asarray(images) / 255, -1).astype(np.float32)
    return x, np.asarray(labels) - 5
''',
        },
        wrong={
            "no label check": '''
def prepare_digits(images, labels):
    return (images / 255.0).astype(np.float32)[..., None], labels - 5
''',
            "checks only digits below 5": '''
def prepare_digits(images, labels):
    if labels.min() < 5:
        raise ValueError(labels.min())
    return (images / 255.0).astype(np.float32)[..., None], labels - 5
''',
            "no channel axis": '''
def prepare_digits(images, labels):
    if labels.min() < 5 or labels.max() > 9:
        raise ValueError(labels)
    return (images / 255.0).astype(np.float32), labels - 5
''',
            "index among the digits present (keeps the order, not the meaning)": '''
def prepare_digits(images, labels):
    labels = np.asarray(labels)
    if labels.min() < 5 or labels.max() > 9:
        raise ValueError(labels)
    return (images / 255.0).astype(np.float32)[..., None], np.unique(labels, return_inverse=True)[1]
''',
            "shifted by 4": '''
def prepare_digits(images, labels):
    if labels.min() < 5 or labels.max() > 9:
        raise ValueError(labels)
    return (images / 255.0).astype(np.float32)[..., None], labels - 4
''',
        },
    ),
    "w4_make_feature_extractor": Exercise(
        correct={
            "freeze each layer": '''
def make_feature_extractor(base, layer_name="flatten"):
    extractor = keras.Model(inputs=base.inputs[0], outputs=base.get_layer(layer_name).output)
    for layer in extractor.layers:
        layer.trainable = False
    return extractor
''',
            "find the layer by name": '''
def make_feature_extractor(base, layer_name="flatten"):
    cut = next(layer for layer in base.layers if layer.name == layer_name)
    extractor = keras.Model(base.inputs[0], cut.output)
    extractor.trainable = False
    return extractor
''',
        },
        wrong={
            "not frozen": '''
def make_feature_extractor(base, layer_name="flatten"):
    return keras.Model(base.inputs[0], base.get_layer(layer_name).output)
''',
            "always flatten": '''
def make_feature_extractor(base, layer_name="flatten"):
    extractor = keras.Model(base.inputs[0], base.get_layer("flatten").output)
    extractor.trainable = False
    return extractor
''',
            "a new untrained base": '''
def make_feature_extractor(base, layer_name="flatten"):
    fresh = pretrained.build_base_network()
    extractor = keras.Model(fresh.inputs[0], fresh.get_layer(layer_name).output)
    extractor.trainable = False
    return extractor
''',
            "the layer's input": '''
def make_feature_extractor(base, layer_name="flatten"):
    extractor = keras.Model(base.inputs[0], base.get_layer(layer_name).input)
    extractor.trainable = False
    return extractor
''',
        },
    ),
    "w4_build_transfer_model": Exercise(
        correct={
            "keywords and a named model": '''
def build_transfer_model(extractor, num_classes=5):
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(units=num_classes, activation=keras.activations.softmax,
                                 name="head")(extractor(inputs, training=False))
    return keras.Model(inputs=inputs, outputs=outputs, name="transfer")
''',
            "head made first": '''
def build_transfer_model(extractor, num_classes=5):
    head = keras.layers.Dense(num_classes, activation="softmax", name="head")
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, head(extractor(inputs, training=False)))
''',
        },
        wrong={
            "a new extractor": '''
def build_transfer_model(extractor, num_classes=5):
    own = make_feature_extractor(pretrained.load_base_network())
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="head")(own(inputs, training=False)))
''',
            "hard-coded 5 classes": '''
def build_transfer_model(extractor, num_classes=5):
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="head")(extractor(inputs, training=False)))
''',
            "head without softmax": '''
def build_transfer_model(extractor, num_classes=5):
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="head")(extractor(inputs, training=False)))
''',
            "relu head": '''
def build_transfer_model(extractor, num_classes=5):
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="relu", name="head")(extractor(inputs, training=False)))
''',
        },
    ),
    "w4_compile_for_transfer": Exercise(
        correct={
            "loss and metric objects; L2 of 0.1": _COMPILE["loss and metric objects"] + _decay(0.1),
            "loss function; L2 of 1": _COMPILE["loss function"] + _decay(1.0),
            "optimiser from its settings; L2 of 3, a NumPy float": (
                _COMPILE["optimiser from its settings"] + _decay("np.float32(3.0)")),
        },
        wrong={
            **{f"{name}; L2 of 0.3": answer + _decay(0.3) for name, answer in _COMPILE_WRONG.items()},
            "no penalty": _COMPILE["loss function"] + _decay(0),
            "a penalty too weak to matter (0.01)": _COMPILE["loss function"] + _decay(0.01),
            "a penalty so strong the head barely learns (30)": _COMPILE["loss function"] + _decay(30),
            "a penalty that still loses too little (10)": _COMPILE["loss function"] + _decay(10),
        },
    ),
    "w4_train_head": Exercise(
        correct={
            "accuracy by hand": _head(
                accuracy="float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))"),
            "another seed": _head(seed=1),
        },
        wrong={
            "all 2,000 labels": _head(x="prepare_digits(x_train_raw, y_train_raw)[0]",
                                      y="prepare_digits(x_train_raw, y_train_raw)[1]"),
            "extractor left trainable": _head(freeze="extractor.trainable = True"),
            "10 epochs": _head(epochs=10),
            "accuracy on the training images": _head(
                accuracy='model.evaluate(x_few, y_few, verbose=0, return_dict=True)["accuracy"]'),
        },
    ),
    "w4_unfreeze_top": Exercise(
        correct={
            "index slice": _unfreeze(),
            "flag that turns on": '''
def unfreeze_top(extractor, first_layer="conv_2"):
    extractor.trainable = True
    reached = False
    for layer in extractor.layers:
        reached = reached or layer.name == first_layer
        layer.trainable = reached
    for layer in extractor.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
''',
        },
        wrong={
            "batch normalisation unfrozen": _unfreeze(batch_norm=""),
            "extractor left frozen": _unfreeze(whole="pass"),
            "from the layer after first_layer": _unfreeze(offset=" + 1"),
            "always conv_2": _unfreeze(first='"conv_2"'),
        },
    ),
    "w4_augment": Exercise(
        correct={
            "shifts of 2 pixels (np.roll)": _augment('''
    moved = [np.roll(images, (rows, columns), axis=(1, 2)) for rows in (-2, 0, 2) for columns in (-2, 0, 2)]
    return np.concatenate(moved), np.tile(labels, len(moved))'''),
            "turns of up to 15 degrees (scipy.ndimage)": _augment('''
    from scipy import ndimage
    angles = [-15, -7.5, 0, 7.5, 15]
    turned = [ndimage.rotate(images, angle, axes=(1, 2), reshape=False, order=1) for angle in angles]
    return np.clip(np.concatenate(turned), 0, 1).astype("float32"), np.concatenate([labels] * len(angles))'''),
            "Keras's random rotation and translation layers": _augment('''
    vary = keras.Sequential([keras.layers.RandomRotation(0.04, seed=1),
                             keras.layers.RandomTranslation(0.08, 0.08, seed=2)])
    copies = [images] + [keras.ops.convert_to_numpy(vary(images, training=True)) for _ in range(9)]
    return np.clip(np.concatenate(copies), 0, 1).astype("float32"), np.tile(labels, 10)'''),
        },
        wrong={
            "the 25 images unchanged": _augment("    return images, labels"),
            "nine identical copies": _augment("    return np.concatenate([images] * 9), np.tile(labels, 9)"),
            "mirror images": _augment(
                "    return np.concatenate([images, images[:, :, ::-1]]), np.concatenate([labels, labels])"),
            "half-turns": _augment(
                "    return np.concatenate([images, images[:, ::-1, ::-1]]), np.concatenate([labels, labels])"),
            "the test images added, with their labels": _augment(
                "    return np.concatenate([images, x_test]), np.concatenate([labels, y_test])"),
        },
    ),
    "w4_beat_baseline": Exercise(
        rerun=("w4_train_head",),
        correct={
            "conv_2 at 3e-4 for 10 epochs, accuracy by hand": _beat(
                rate=3e-4, epochs=10,
                accuracy="float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))"),
            "conv_1 on at 1e-3 for 10 epochs": _beat(first="conv_1", epochs=10),
            "conv_2 at 1e-3 for 15 epochs, set by hand": _beat(tune=_BY_HAND),
        },
        wrong={
            "no fine-tuning": _beat(tune="pass", accuracy="head_accuracy"),
            "fine-tuned on the test set": _beat(tune=_AS_CHOSEN.replace("x_few, y_few", "x_test, y_test")),
            "a rate too small to move anything": _beat(rate=1e-5),
            "a single epoch": _beat(rate=1e-4, epochs=1),
            "too high a rate on conv_2": _beat(rate=0.01),
            "too high a rate on every layer": _beat(first="conv_1", rate=0.01),
            "epochs beyond the limit": _beat(rate=1e-4, epochs=50),
        },
    ),
    "w4_concept_batchnorm": concept(
        "batchnorm_choice", correct=['"A"', '"a"'], wrong=['"B"', '"C"', '"D"', "0"]),
    "w4_concept_trainable": concept(
        "trainable_parameters", correct=["650", "64 * 10 + 10"],
        wrong=["640", "120650", "120000", "650.0", "[650]"]),
    "w4_concept_finetune_rate": concept(
        "fine_tune_rate_choice", correct=['"B"', '"b"'], wrong=['"A"', '"C"', '"1e-5"', "1e-5"]),
}
