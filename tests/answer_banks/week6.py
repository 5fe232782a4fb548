"""Week 6 answers: the capstone, graded by what the models and their files show."""

from answer_banks import Exercise, concept

_DENSE = '''
def build_dense():
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''

_CNN = '''
def build_cnn():
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D({filters}, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense({units}, activation="{activation}"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[{metrics}])
    return model
'''

_CALLBACKS = '''
def make_callbacks(name):
    return [
        keras.callbacks.EarlyStopping(monitor="{stop_monitor}", patience=3,
                                      restore_best_weights={restore}),
        keras.callbacks.LearningRateScheduler({schedule}),
        keras.callbacks.CSVLogger(str(WORK_DIR / f"{{name}}.csv")),
        keras.callbacks.ModelCheckpoint(str(WORK_DIR / f"{{name}}.keras"), monitor="val_loss",
                                        save_best_only={best_only}),
    ]
'''
_SCHEDULE = "lambda epoch, rate: rate * 0.9 if epoch >= 2 else rate"


def _callbacks(stop_monitor="val_loss", restore=True, schedule=_SCHEDULE, best_only=True):
    return _CALLBACKS.format(stop_monitor=stop_monitor, restore=restore, schedule=schedule,
                             best_only=best_only)


_TRAIN = '''
helpers.set_seed(0)
models, histories, run_callbacks = {{}}, {{}}, {{}}
for name, build in (("dense", build_dense), ("cnn", build_cnn)):
    models[name] = build()
    run_callbacks[name] = {callbacks}
    histories[name] = models[name].fit(
        {images}, {validation}, epochs=6, batch_size=64,
        callbacks=run_callbacks[name], verbose=0)
'''


def _train(validation="validation_data=(x_val, y_val)", callbacks="make_callbacks(name)",
           images="x_train, y_train"):
    return _TRAIN.format(validation=validation, callbacks=callbacks, images=images)


# Trains without a CSVLogger, then writes the log from the History, as CSVLogger would.
_LOG_BY_HAND = '''
import csv
helpers.set_seed(0)
models, histories, run_callbacks = {}, {}, {}
for name, build in (("dense", build_dense), ("cnn", build_cnn)):
    models[name] = build()
    run_callbacks[name] = make_callbacks(name)
    used = [callback for callback in run_callbacks[name]
            if not isinstance(callback, keras.callbacks.CSVLogger)]
    histories[name] = models[name].fit(x_train, y_train, validation_data=(x_val, y_val), epochs=6,
                                       batch_size=64, callbacks=used, verbose=0)
    record = histories[name].history
    with open(WORK_DIR / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", *sorted(record)])
        writer.writeheader()
        for epoch in range(len(record["loss"])):
            writer.writerow({"epoch": epoch, **{key: values[epoch] for key, values in record.items()}})
'''
_FRESH_WORK_DIR = "shutil.rmtree(WORK_DIR, ignore_errors=True)\nWORK_DIR.mkdir()\n"

_COMPARE = '''
def compare_models(best_models, histories, images, labels):
    table = {{}}
    for name, model in best_models.items():
        record = histories[name].history
        predicted = np.argmax(model.predict({images}, verbose=0), axis=1)
        table[name] = {{
            "accuracy": {accuracy},
            "parameters": model.count_params(),
            "epochs": len(record["loss"]),
            "best_epoch": {best_epoch},
        }}
    return table
'''


def _compare(images="images", accuracy="float(np.mean(predicted == labels))",
             best_epoch='int(np.argmin(record["val_loss"])) + 1'):
    return _COMPARE.format(images=images, accuracy=accuracy, best_epoch=best_epoch)


_PLOT = '''
def plot_comparison(comparison, ax=None):
    if ax is None:
        _, ax = plt.subplots()
    names = list(comparison)
    ax.{bar}(names, [comparison[name]["{column}"] for name in names])
    ax.set_title("{title}")
    ax.set_ylabel("accuracy")
    return ax
'''

EXERCISES = {
    "w6_build_dense": Exercise(
        correct={
            "Sequential with Adam": _DENSE,
            "functional, SGD and a loss object": '''
def build_dense():
    inputs = keras.Input(shape=(28, 28, 1))
    hidden = keras.layers.Dense(32, activation="tanh")(keras.layers.Flatten()(inputs))
    outputs = keras.layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model
''',
        },
        wrong={
            "has a convolution": _DENSE.replace(
                "keras.layers.Flatten(),", "keras.layers.Conv2D(4, 3), keras.layers.Flatten(),"),
            "no softmax": _DENSE.replace('Dense(10, activation="softmax")', "Dense(10)"),
            "not compiled": _DENSE.replace("    model.compile(", "    0 and model.compile("),
            "one-hot loss": _DENSE.replace('"sparse_categorical_crossentropy"',
                                           '"categorical_crossentropy"'),
            "one model for every call": _DENSE.replace("def build_dense():", "def _build():")
            + "\n_only = _build()\ndef build_dense():\n    return _only\n",
        },
    ),
    "w6_build_cnn": Exercise(
        correct={
            "one convolution": _CNN.format(filters=8, units=10, activation="softmax",
                                           metrics='"accuracy"'),
            "same padding and global pooling": '''
def build_cnn():
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''',
        },
        wrong={
            "no convolution": _DENSE.replace("build_dense", "build_cnn"),
            "too big": _CNN.format(filters=64, units=10, activation="softmax",
                                   metrics='"accuracy"').replace(
                "keras.layers.Flatten(),",
                "keras.layers.Flatten(), keras.layers.Dense(128, activation='relu'),"),
            "no softmax": _CNN.format(filters=8, units=10, activation="linear",
                                      metrics='"accuracy"'),
            "no accuracy metric": _CNN.format(filters=8, units=10, activation="softmax",
                                              metrics=""),
        },
    ),
    "w6_make_callbacks": Exercise(
        correct={
            "step schedule": _callbacks(),
            "exponential schedule, watching val_accuracy": _callbacks(
                stop_monitor="val_accuracy",
                schedule="lambda epoch, rate: 0.002 * 0.9 ** epoch").replace(
                'monitor="val_loss",\n', 'monitor="val_accuracy",\n'),
            "one-argument schedule, as Keras also accepts": _callbacks(
                schedule="lambda epoch: 0.001 if epoch < 3 else 0.0005"),
            "one-argument halving every 5 epochs": _callbacks(
                schedule="lambda epoch: 0.002 * 0.5 ** (epoch // 5)"),
        },
        wrong={
            "weights not restored": _callbacks(restore=False),
            "saves every epoch": _callbacks(best_only=False),
            "constant schedule": _callbacks(schedule="lambda epoch, rate: rate"),
            "a schedule object, which returns a tensor": _callbacks(
                schedule="keras.optimizers.schedules.ExponentialDecay(0.001, 1, 0.8)"),
            "stops on the training loss": _callbacks(stop_monitor="loss"),
            "one log for every model": _callbacks().replace('f"{name}.csv"', '"log.csv"'),
            "saves weights only": _callbacks().replace(
                'f"{name}.keras"), monitor="val_loss",',
                'f"{name}.weights.h5"), monitor="val_loss", save_weights_only=True,'),
        },
    ),
    "w6_train": Exercise(
        correct={
            "a loop over both": _train(),
            "the CSV logger before the scheduler": _train(
                callbacks="sorted(make_callbacks(name), key=lambda callback: "
                          "not isinstance(callback, keras.callbacks.CSVLogger))"),
            "one call each, batch size 32": '''
helpers.set_seed(0)
models = {"dense": build_dense(), "cnn": build_cnn()}
run_callbacks = {"dense": make_callbacks("dense"), "cnn": make_callbacks("cnn")}
histories = {
    "dense": models["dense"].fit(x_train, y_train, validation_data=(x_val, y_val), epochs=4,
                                 callbacks=run_callbacks["dense"], verbose=0),
    "cnn": models["cnn"].fit(x_train, y_train, validation_data=(x_val, y_val), epochs=4,
                             callbacks=run_callbacks["cnn"], verbose=0),
}
''',
        },
        wrong={
            "validation_split instead of x_val": _train(validation="validation_split=0.2"),
            "no callbacks": _train(callbacks="[]"),
            "the dense callbacks for both": _train(callbacks='make_callbacks("dense")'),
            "trains on the test images": _train(images="x_test, y_test"),
            "trains on the validation images too": _train(
                images="np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])"),
            "trains on the test images too": _train(
                images="np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])"),
            "a log written by hand from the History": _LOG_BY_HAND,
        },
        before=_FRESH_WORK_DIR,
    ),
    "w6_reload": Exercise(
        correct={
            "a comprehension": '''
best_models = {name: keras.models.load_model(WORK_DIR / f"{name}.keras") for name in models}
''',
            "one by one, from str paths": '''
best_models = {}
best_models["dense"] = keras.models.load_model(str(WORK_DIR / "dense.keras"))
best_models["cnn"] = keras.models.load_model(str(WORK_DIR / "cnn.keras"))
''',
        },
        wrong={
            "the trained models": "best_models = models\n",
            "the dense file for both": '''
best_models = {name: keras.models.load_model(WORK_DIR / "dense.keras") for name in models}
''',
            "untrained models": 'best_models = {"dense": build_dense(), "cnn": build_cnn()}\n',
            "other names": '''
best_models = {name.upper(): keras.models.load_model(WORK_DIR / f"{name}.keras")
               for name in models}
''',
        },
    ),
    "w6_compare_models": Exercise(
        correct={
            "argmax of predictions": _compare(),
            "evaluate, and the epoch found by its loss": '''
def compare_models(best_models, histories, images, labels):
    table = {}
    for name, model in best_models.items():
        record = histories[name].history
        loss = model.evaluate(x_val, y_val, verbose=0)[0]
        best = int(np.argmin(np.abs(np.array(record["val_loss"]) - loss)))
        table[name] = {"accuracy": float(model.evaluate(images, labels, verbose=0)[1]),
                       "parameters": int(model.count_params()),
                       "epochs": len(record["epoch"] if "epoch" in record else record["loss"]),
                       "best_epoch": best + 1}
    return table
''',
        },
        wrong={
            "best epoch counted from 0": _compare(best_epoch='int(np.argmin(record["val_loss"]))'),
            "accuracy in percent": _compare(accuracy="100 * float(np.mean(predicted == labels))"),
            "always the test images": _compare(images="x_test").replace(
                "predicted == labels", "predicted == y_test"),
            "layers, not parameters": _compare().replace("model.count_params()", "len(model.layers)"),
        },
    ),
    "w6_plot_comparison": Exercise(
        correct={
            "bars with a title": _PLOT.format(bar="bar", column="accuracy", title="Accuracy"),
            "positions and tick_label": '''
def plot_comparison(comparison, ax=None):
    ax = ax if ax is not None else plt.figure().add_subplot()
    heights = [row["accuracy"] for row in comparison.values()]
    ax.bar(range(len(heights)), heights, tick_label=list(comparison))
    ax.set(title="Test accuracy by model", ylabel="accuracy", xlabel="model")
    return ax
''',
        },
        wrong={
            "horizontal bars": _PLOT.format(bar="barh", column="accuracy", title="Accuracy"),
            "no title": _PLOT.format(bar="bar", column="accuracy", title=""),
            "parameters, not accuracy": _PLOT.format(bar="bar", column="parameters", title="Size"),
            "ignores ax": _PLOT.format(bar="bar", column="accuracy", title="Accuracy").replace(
                "    if ax is None:\n        _, ax = plt.subplots()", "    _, ax = plt.subplots()"),
        },
    ),
    "w6_concept_early_stop": concept(
        "stopped_after", correct=["6", "np.int64(6)"], wrong=["7", "5", "4", "8", "6.0"]),
    "w6_concept_schedule": concept(
        "schedule_choice", correct=['"A"', '"a"'], wrong=['"B"', '"C"', '"0.01, 0.01, 0.005"']),
    "w6_concept_decay": concept(
        "decay_choice", correct=['"B"', '"b"'], wrong=['"A"', '"C"', "0.00125", '"0.00125"']),
    "w6_concept_fresh_test": concept(
        "fresh_data_choice", correct=['"A"', '" a "'], wrong=['"B"', '"C"', '"D"', "1"]),
}
