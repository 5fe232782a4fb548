"""Week 2 answers: validation, regularisation and callbacks."""

from answer_banks import Exercise, concept

_REGULARISED = '''
def build_regularised_model(input_dim=4, num_classes=3, weight_decay=0.001, dropout_rate=0.3):
    penalty = {penalty}
    return keras.Sequential([
        keras.Input(shape=({input_dim},)),
        keras.layers.Dense({units}, activation={activation}, kernel_initializer="he_uniform",
                           bias_initializer="ones", kernel_regularizer=penalty),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Dense(128, activation={activation}, kernel_regularizer=penalty),
        keras.layers.Dropout(dropout_rate),
        keras.layers.Dense(64, activation={activation}, kernel_regularizer=penalty),
        keras.layers.Dropout(dropout_rate),
        keras.layers.Dense({classes}, activation="softmax"{output_penalty}),
    ])
'''


def _regularised(penalty="keras.regularizers.l2(weight_decay)", input_dim="input_dim", units=64,
                 activation='"relu"', classes="num_classes", output_penalty=""):
    return _REGULARISED.format(penalty=penalty, input_dim=input_dim, units=units,
                               activation=activation, classes=classes, output_penalty=output_penalty)


_TRAIN = '''
helpers.set_seed({seed})
model = compile_model(build_regularised_model())
recorder = BatchLossRecorder()
history = model.fit({x}, y_train_one_hot, epochs=300, batch_size=40, {validation}, verbose=0,
                    callbacks={callbacks})
test_accuracy = {accuracy}
'''


def _train(seed=0, x="x_train", validation="validation_split=0.15",
           callbacks="make_callbacks() + [recorder]",
           accuracy='model.evaluate(x_test, y_test_one_hot, verbose=0, return_dict=True)["accuracy"]'):
    return _TRAIN.format(seed=seed, x=x, validation=validation, callbacks=callbacks, accuracy=accuracy)


EXERCISES = {
    "w2_one_hot_encode": Exercise(
        correct={
            "to_categorical": '''
def one_hot_encode(labels, num_classes):
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if np.any((labels < 0) | (labels >= num_classes)):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return keras.utils.to_categorical(labels, num_classes).astype("float32")
''',
            "index into zeros": '''
def one_hot_encode(labels, num_classes):
    if np.ndim(labels) != 1 or any(not 0 <= label < num_classes for label in labels):
        raise ValueError("want 1-D labels in range, got " + repr(labels))
    encoded = np.zeros((len(labels), num_classes), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1
    return encoded
''',
        },
        wrong={
            "no range check": '''
def one_hot_encode(labels, num_classes):
    if labels.ndim != 1:
        raise ValueError(labels.shape)
    return np.eye(num_classes, dtype=np.float32)[labels]
''',
            "checks only the upper bound": '''
def one_hot_encode(labels, num_classes):
    if labels.ndim != 1 or labels.max() >= num_classes:
        raise ValueError(labels)
    return np.eye(num_classes, dtype=np.float32)[labels]
''',
            "no shape check": '''
def one_hot_encode(labels, num_classes):
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(labels)
    return np.eye(num_classes, dtype=np.float32)[labels]
''',
            "float64": '''
def one_hot_encode(labels, num_classes):
    if labels.ndim != 1 or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(labels)
    return np.eye(num_classes)[labels]
''',
        },
    ),
    "w2_standardize": Exercise(
        correct={
            "keepdims": '''
def standardize(train_features, test_features):
    mean = np.mean(train_features, axis=0, keepdims=True)
    std = np.std(train_features, axis=0, keepdims=True)
    return np.float32((train_features - mean) / std), np.float32((test_features - mean) / std)
''',
            "scikit-learn's StandardScaler": '''
from sklearn.preprocessing import StandardScaler

def standardize(train_features, test_features):
    scaler = StandardScaler().fit(train_features)
    return (scaler.transform(train_features).astype(np.float32),
            scaler.transform(test_features).astype(np.float32))
''',
        },
        wrong={
            "test set scaled with its own statistics": '''
def standardize(train_features, test_features):
    def scale(features):
        return ((features - features.mean(axis=0)) / features.std(axis=0)).astype(np.float32)
    return scale(train_features), scale(test_features)
''',
            "statistics of train and test together": '''
def standardize(train_features, test_features):
    both = np.concatenate([train_features, test_features])
    mean, std = both.mean(axis=0), both.std(axis=0)
    return ((train_features - mean) / std).astype(np.float32), ((test_features - mean) / std).astype(np.float32)
''',
            "statistics of each row": '''
def standardize(train_features, test_features):
    mean, std = train_features.mean(axis=1, keepdims=True), train_features.std(axis=1, keepdims=True)
    return ((train_features - mean) / std).astype(np.float32), ((test_features - test_features.mean(axis=1, keepdims=True)) / test_features.std(axis=1, keepdims=True)).astype(np.float32)
''',
            "sample standard deviation (ddof=1), which the task rules out": '''
def standardize(train_features, test_features):
    mean, std = train_features.mean(axis=0), train_features.std(axis=0, ddof=1)
    return ((train_features - mean) / std).astype(np.float32), ((test_features - mean) / std).astype(np.float32)
''',
            "divides by the variance": '''
def standardize(train_features, test_features):
    mean, var = train_features.mean(axis=0), train_features.var(axis=0)
    return ((train_features - mean) / var).astype(np.float32), ((test_features - mean) / var).astype(np.float32)
''',
        },
    ),
    "w2_build_baseline_model": Exercise(
        correct={
            "initialiser objects and add()": '''
def build_baseline_model(input_dim=4, num_classes=3):
    model = keras.Sequential()
    model.add(keras.Input(shape=(input_dim,)))
    model.add(keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.HeUniform(),
                                 bias_initializer=keras.initializers.Ones()))
    for units in (128, 64):
        model.add(keras.layers.Dense(units, activation="relu"))
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model
''',
            "Constant(1.0) and VarianceScaling": '''
def build_baseline_model(input_dim=4, num_classes=3):
    he = keras.initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform")
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(64, activation="relu", kernel_initializer=he,
                           bias_initializer=keras.initializers.Constant(1.0)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
''',
        },
        wrong={
            "default initialisers": '''
def build_baseline_model(input_dim=4, num_classes=3):
    return keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(num_classes, activation="softmax")])
''',
            "he_normal": '''
def build_baseline_model(input_dim=4, num_classes=3):
    return keras.Sequential([keras.Input(shape=(input_dim,)),
                             keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal", bias_initializer="ones"),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(num_classes, activation="softmax")])
''',
            "hard-coded sizes": '''
def build_baseline_model(input_dim=4, num_classes=3):
    return keras.Sequential([keras.Input(shape=(4,)),
                             keras.layers.Dense(64, activation="relu", kernel_initializer="he_uniform", bias_initializer="ones"),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])
''',
            "linear hidden layers": '''
def build_baseline_model(input_dim=4, num_classes=3):
    return keras.Sequential([keras.Input(shape=(input_dim,)),
                             keras.layers.Dense(64, activation="relu", kernel_initializer="he_uniform", bias_initializer="ones"),
                             keras.layers.Dense(128), keras.layers.Dense(64),
                             keras.layers.Dense(num_classes, activation="softmax")])
''',
        },
    ),
    "w2_build_regularised_model": Exercise(
        correct={
            "one shared l2 regulariser": _regularised(),
            "L1L2 with l2 only, activation function": _regularised(
                penalty="keras.regularizers.L1L2(l2=weight_decay)", activation="keras.activations.relu"),
        },
        wrong={
            "linear network with hard-coded sizes": _regularised(
                input_dim=4, activation="None", classes=3),
            "L1 instead of L2": _regularised(penalty="keras.regularizers.L1(weight_decay)"),
            "regularised output layer": _regularised(output_penalty=", kernel_regularizer=penalty"),
            "hard-coded strength": _regularised(penalty="keras.regularizers.L2(0.001)"),
            "ignores num_classes": _regularised(classes=3),
            "default batch normalisation": _regularised().replace("momentum=0.9", ""),
        },
    ),
    "w2_compile_model": Exercise(
        correct={
            "loss and metric objects, Adam at 0.003": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.003), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model
''',
            "the loss function, Adam at 0.01": '''
def compile_model(model):
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.categorical_crossentropy, metrics=["accuracy"])
    return model
''',
            "Adam's default rate": '''
def compile_model(model):
    model.compile("adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
            "RMSprop at 0.003": '''
def compile_model(model):
    model.compile(keras.optimizers.RMSprop(0.003), loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
        },
        wrong={
            "sparse loss for one-hot labels": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''',
            "from_logits on a softmax model": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.005), loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
''',
            "a rate too small for 60 steps": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.0003), loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
            "a rate so large the loss jumps about": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
            "plain SGD at its default rate": '''
def compile_model(model):
    model.compile("sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''',
            "no accuracy metric": '''
def compile_model(model):
    model.compile(keras.optimizers.Adam(0.005), loss="categorical_crossentropy")
    return model
''',
        },
    ),
    "w2_make_callbacks": Exercise(
        correct={
            "patience 15 with a minimum improvement": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=15, min_delta=0.005, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=3, min_lr=1e-5)]
''',
            "patience 10, the rate cut after 4": '''
def make_callbacks():
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", patience=10,
                                         restore_best_weights=True)
    slow = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=1 / 5, patience=4,
                                             min_lr=0.00001)
    return [stop, slow]
''',
            "patience 30, the rate cut after 10": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=30, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=10, min_lr=1e-5)]
''',
            "the reducer listed first": '''
def make_callbacks():
    return [keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=6, min_lr=2e-5),
            keras.callbacks.EarlyStopping(patience=18, restore_best_weights=True)]
''',
        },
        wrong={
            "stops at the first bump (patience 3)": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=1, min_lr=1e-5)]
''',
            "waits too long (patience 60)": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=60, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=10, min_lr=1e-5)]
''',
            "monitors the training loss": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.2, patience=4, min_lr=1e-5)]
''',
            "keeps the last weights after a patience of 25": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=25),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=5, min_lr=1e-5)]
''',
            "the rate waits as long as the stop": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=10, min_lr=1e-5)]
''',
            "no floor on the learning rate": '''
def make_callbacks():
    return [keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=3)]
''',
            "the same callbacks on every call": '''
_callbacks = [keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True),
              keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=5, min_lr=1e-4)]
def make_callbacks():
    return _callbacks
''',
        },
    ),
    "w2_batch_loss_recorder": Exercise(
        correct={
            "on_batch_end and numpy()": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses, self.epoch_learning_rates = [], []

    def on_batch_end(self, batch, logs=None):
        self.batch_losses.append(float(logs.get("loss")))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_learning_rates.append(float(self.model.optimizer.learning_rate.numpy()))
''',
            "keras.ops": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses = list()
        self.epoch_learning_rates = list()

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(float(keras.ops.convert_to_numpy(logs["loss"])))

    def on_epoch_end(self, epoch, logs=None):
        rate = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        self.epoch_learning_rates.append(rate.item())
''',
        },
        wrong={
            "lists made once in __init__": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batch_losses, self.epoch_learning_rates = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_learning_rates.append(float(self.model.optimizer.learning_rate))
''',
            "a loss per epoch": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses, self.epoch_learning_rates = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.batch_losses.append(float(logs["loss"]))
        self.epoch_learning_rates.append(float(self.model.optimizer.learning_rate))
''',
            "rate read once at the start": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses, self.epoch_learning_rates = [], []
        self.rate = float(self.model.optimizer.learning_rate)

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_learning_rates.append(self.rate)
''',
            "rates kept as tensors": '''
class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batch_losses, self.epoch_learning_rates = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_learning_rates.append(self.model.optimizer.learning_rate)
''',
        },
    ),
    "w2_train": Exercise(
        correct={
            "another seed, accuracy by hand": _train(
                seed=2, accuracy="float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))"),
            "callbacks listed one by one": _train(
                seed=1, callbacks="[*make_callbacks(), recorder]"),
        },
        wrong={
            "early stopping on the test set": _train(validation="validation_data=(x_test, y_test_one_hot)"),
            "no callbacks": _train(callbacks="[recorder]"),
            "unscaled features": _train(x="x_train_raw.astype('float32')", accuracy=(
                "model.evaluate(x_test_raw.astype('float32'), y_test_one_hot, verbose=0, return_dict=True)['accuracy']")),
            "training accuracy from the history": _train(accuracy='history.history["accuracy"][-1]'),
        },
    ),
    "w2_concept_curve": concept(
        "curve_diagnosis", correct=['"B"', '"b"'], wrong=['"A"', '"C"', '"overfits"', "True"]),
    "w2_concept_callback": concept(
        "callback_choice", correct=['"C"', '"c "'], wrong=['"A"', '"B"', '"D"', "keras.callbacks.EarlyStopping"]),
    "w2_concept_dropout": concept(
        "dropout_choice", correct=['"C"', '"c"'], wrong=['"A"', '"B"', '"AC"', "None"]),
    "w2_val_loss_logger": Exercise(
        correct={
            "a lambda": '''
def make_val_loss_logger(record):
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: record.append(float(logs["val_loss"])))
''',
            "a named function": '''
def make_val_loss_logger(record):
    def log(epoch, logs=None):
        record.append(float(logs.get("val_loss")))
    return keras.callbacks.LambdaCallback(on_epoch_end=log)
''',
        },
        wrong={
            "the training loss": '''
def make_val_loss_logger(record):
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: record.append(float(logs["loss"])))
''',
            "a new list": '''
def make_val_loss_logger(record):
    record = []
    return keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: record.append(float(logs["val_loss"])))
''',
            "after every batch": '''
def make_val_loss_logger(record):
    return keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: record.append(float(logs["loss"])))
''',
            "a callback class": '''
class _Logger(keras.callbacks.Callback):
    def __init__(self, record):
        super().__init__()
        self.record = record

    def on_epoch_end(self, epoch, logs=None):
        self.record.append(float(logs["val_loss"]))


def make_val_loss_logger(record):
    return _Logger(record)
''',
            "replaces the contents": '''
def make_val_loss_logger(record):
    def log(epoch, logs):
        record[:] = record[:epoch] + [float(logs["val_loss"])]
    return keras.callbacks.LambdaCallback(on_epoch_end=log)
''',
        },
    ),
}
