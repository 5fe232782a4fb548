"""Week 5 answers: a deep dive into weights."""

from answer_banks import Exercise, concept

_PRUNE = '''
def prune_by_magnitude(weights, sparsity):
    if {check}:
        raise ValueError(f"sparsity must be in [0, 1), got {{sparsity}}")
    count = {count}
    pruned = {copy}
    order = np.argsort({key}, axis=None)
    pruned.flat[order[:count]] = 0
    return pruned
'''


def _prune(check="not 0 <= sparsity < 1", count="round(sparsity * weights.size)",
           copy="weights.copy()", key="np.abs(weights)"):
    return _PRUNE.format(check=check, count=count, copy=copy, key=key)


_QUANTIZE = '''
def quantize_int8(weights):
    low, high = {low}, {high}
    scale = float(high - low) / {levels} {guard}
    zero_point = int(round({zero}))
    q = np.clip(np.round(weights / scale) + zero_point, -128, 127).astype(np.int8)
    return q, scale, zero_point
'''


def _quantize(low="min(float(weights.min()), 0.0)", high="max(float(weights.max()), 0.0)", levels=255,
              guard="if high > low else 1.0", zero="-128 - low / scale"):
    return _QUANTIZE.format(low=low, high=high, levels=levels, guard=guard, zero=zero)


_QUANTIZE_NUMPY = '''
def quantize_int8(weights):
    low = min(np.min(weights), 0.0)
    high = max(np.max(weights), 0.0)
    scale = 1.0 if high == low else float((high - low) / 255)
    zero_point = int(np.round(-128 - low / scale))
    q = np.clip(np.rint(weights / scale) + zero_point, -128, 127).astype("int8")
    return q, scale, zero_point
'''

_QUANTIZE_FLOAT64 = '''
def quantize_int8(weights):
    w = np.asarray(weights, dtype=np.float64)
    span_low, span_high = min(w.min(), 0), max(w.max(), 0)
    step = (span_high - span_low) / 255 if span_high != span_low else 1.0
    offset = int(round(-128 - span_low / step))
    return np.clip(np.round(w / step) + offset, -128, 127).astype(np.int8), float(step), offset
'''

_DEQUANTIZE = {
    "float32 throughout": '''
def dequantize(q, scale, zero_point):
    return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
''',
    "int32 then cast": '''
def dequantize(q, scale, zero_point):
    return np.asarray((q.astype(np.int32) - zero_point) * scale, dtype=np.float32)
''',
}

_DEQUANTIZE_WRONG = {
    "int8 arithmetic overflows": '''
def dequantize(q, scale, zero_point):
    return ((q - np.int8(zero_point)) * scale).astype(np.float32)
''',
    "adds the zero point after scaling": '''
def dequantize(q, scale, zero_point):
    return (q.astype(np.float32) * scale + zero_point).astype(np.float32)
''',
    "float64": '''
def dequantize(q, scale, zero_point):
    return (q.astype(np.float64) - zero_point) * scale
''',
    "sign of the zero point": '''
def dequantize(q, scale, zero_point):
    return ((q.astype(np.float32) + zero_point) * scale).astype(np.float32)
''',
}


_SIAMESE = '''
def build_siamese(encoder):
    left = keras.Input(shape=(28, 28), name="left")
    right = keras.Input(shape=(28, 28), name="right")
    {encode}
    {combine}
    same = keras.layers.Dense(1, activation="{activation}", name="same")(distance)
    return keras.Model([left, right], same)
'''


def _siamese(encode="a, b = encoder(left), encoder(right)",
             combine="distance = keras.layers.Lambda(lambda pair: keras.ops.abs(pair[0] - pair[1]))([a, b])",
             activation="sigmoid"):
    return _SIAMESE.format(encode=encode, combine=combine, activation=activation)


_RECORDER = '''
class GradientNormRecorder(keras.callbacks.Callback):
    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images, labels
        {init}

    def on_train_begin(self, logs=None):
        {begin}

    def on_epoch_end(self, epoch, logs=None):
        layers = [layer for layer in self.model.layers if hasattr(layer, "kernel")]{only_last}
        with tf.GradientTape() as tape:
            probabilities = self.model(self.images, training=False)
            loss = {loss}
        gradients = tape.gradient(loss, [layer.kernel for layer in layers])
        for layer, gradient in zip(layers, gradients):
            self.norms.setdefault(layer.name, []).append(float(tf.norm({measured})))
'''


def _recorder(init="", begin="self.norms = {}", only_last="",
              loss="keras.losses.SparseCategoricalCrossentropy()(self.labels, probabilities)",
              measured="gradient"):
    return _RECORDER.format(init=init, begin=begin, only_last=only_last, loss=loss, measured=measured)


_WEIGHT_NORM = '''
class WeightNormDense(keras.layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.v = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.g = self.add_weight(shape=(self.units,), initializer="ones")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")
        {build_g}

    def call(self, inputs):
        return self.activation(tf.matmul(inputs, {kernel}) + self.b)
'''


EXERCISES = {
    "w5_prune_by_magnitude": Exercise(
        correct={
            "mask and where": '''
def prune_by_magnitude(weights, sparsity):
    if sparsity < 0 or sparsity >= 1:
        raise ValueError("expected 0 <= sparsity < 1, got " + str(sparsity))
    order = np.argsort(np.abs(weights).ravel())
    keep = np.ones(weights.size, dtype=bool)
    keep[order[:round(sparsity * weights.size)]] = False
    return np.where(keep.reshape(weights.shape), weights, 0).astype(weights.dtype)
''',
            "put on a copy": _prune(copy="np.array(weights, copy=True)",
                                    count="int(np.round(sparsity * weights.size))"),
        },
        wrong={
            "prunes in place": _prune(copy="weights"),
            "floor instead of round": _prune(count="int(sparsity * weights.size)"),
            "prunes the largest": _prune(key="-np.abs(weights)"),
            "by value, not magnitude": _prune(key="weights"),
            "checks only the upper bound": _prune(check="sparsity >= 1"),
        },
    ),
    "w5_quantize_int8": Exercise(
        correct={
            "numpy rounding, guard first; float32 throughout": _QUANTIZE_NUMPY + _DEQUANTIZE["float32 throughout"],
            "python floats; int32 then cast": _quantize() + _DEQUANTIZE["int32 then cast"],
            "float64 copy, one return line; float32 throughout": _QUANTIZE_FLOAT64
            + _DEQUANTIZE["float32 throughout"],
        },
        wrong={
            **{f"{name}; dequantize right": answer + _DEQUANTIZE["float32 throughout"] for name, answer in {
                "range without zero": _quantize(low="float(weights.min())", high="float(weights.max())"),
                "no -128 offset": _quantize(zero="-low / scale"),
                "256 levels": _quantize(levels=256),
                "no guard for all zeros": _quantize(guard=""),
            }.items()},
            **{f"quantize right; {name}": _quantize() + answer for name, answer in _DEQUANTIZE_WRONG.items()},
        },
    ),
    "w5_prune_choice": Exercise(
        correct={
            "82 % of the hidden kernel": 'pruning_choice = {"hidden": 0.82, "output": 0.0}\n',
            "85 % of the hidden kernel, 20 % of the output kernel": (
                'pruning_choice = {"output": 0.2, "hidden": 0.85}\n'),
            "88 % of the hidden kernel, as numpy floats": (
                'pruning_choice = dict(hidden=np.float32(0.88), output=np.float64(0))\n'),
        },
        wrong={
            "80 % of the hidden kernel: 79 % of all kernel weights": (
                'pruning_choice = {"hidden": 0.8, "output": 0.0}\n'),
            "half of each": 'pruning_choice = {"hidden": 0.5, "output": 0.5}\n',
            "93 % of the hidden kernel costs two points": 'pruning_choice = {"hidden": 0.93, "output": 0.0}\n',
            "half the output kernel too, fine on this model only": (
                'pruning_choice = {"hidden": 0.85, "output": 0.5}\n'),
            "90 % of both": 'pruning_choice = {"hidden": 0.9, "output": 0.9}\n',
            "percentages": 'pruning_choice = {"hidden": 85, "output": 0}\n',
        },
    ),
    "w5_load_raw_weights": Exercise(
        correct={
            "assign": '''
def load_raw_weights(path, model):
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with h5py.File(path, "r") as file:
        if len(file["Weights"].keys()) != len(dense):
            raise ValueError(f"file has {len(file['Weights'])} layers, model has {len(dense)} Dense layers")
        for number, layer in enumerate(dense, start=1):
            layer.kernel.assign(file[f"Weights/Layer{number}"][()].T)
            layer.bias.assign(file[f"Bias/Layer{number}"][()].reshape(-1))
    return model
''',
            "transpose and squeeze": '''
def load_raw_weights(path, model):
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    with h5py.File(path, "r") as file:
        names = [name for name in file["Weights"]]
        if len(names) != len(dense):
            raise ValueError("{} layers in the file, {} Dense layers in the model".format(len(names), len(dense)))
        for i in range(len(dense)):
            kernel = np.transpose(file["Weights"]["Layer" + str(i + 1)])
            bias = np.squeeze(file["Bias"]["Layer" + str(i + 1)], axis=1)
            dense[i].set_weights([kernel, bias])
    return model
''',
        },
        wrong={
            "reshape instead of transpose": '''
def load_raw_weights(path, model):
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with h5py.File(path, "r") as file:
        if len(file["Weights"]) != len(dense):
            raise ValueError(len(dense))
        for i, layer in enumerate(dense, 1):
            weights = file[f"Weights/Layer{i}"][()]
            layer.set_weights([weights.reshape(weights.shape[::-1]), file[f"Bias/Layer{i}"][()].flatten()])
    return model
''',
            "no layer count check": '''
def load_raw_weights(path, model):
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with h5py.File(path, "r") as file:
        for i, layer in enumerate(dense, 1):
            layer.set_weights([file[f"Weights/Layer{i}"][()].T, file[f"Bias/Layer{i}"][()].flatten()])
    return model
''',
            "counts every layer": '''
def load_raw_weights(path, model):
    with h5py.File(path, "r") as file:
        if len(file["Weights"]) != len(model.layers):
            raise ValueError(len(model.layers))
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        for i, layer in enumerate(dense, 1):
            layer.set_weights([file[f"Weights/Layer{i}"][()].T, file[f"Bias/Layer{i}"][()].flatten()])
    return model
''',
        },
    ),
    "w5_build_siamese": Exercise(
        correct={
            "Subtract then abs": _siamese(combine=(
                "distance = keras.layers.Lambda(keras.ops.abs)(keras.layers.Subtract()([a, b]))")),
            "squared difference, Keras layers only": '''
def build_siamese(encoder):
    images = [keras.Input(shape=(28, 28), name=side) for side in ("left", "right")]
    codes = [encoder(image) for image in images]
    gap = keras.layers.Subtract()(codes)
    squared = keras.layers.Multiply()([gap, gap])
    return keras.Model(images, keras.layers.Dense(1, activation="sigmoid")(squared))
''',
            "elementwise product": '''
def build_siamese(encoder):
    first, second = keras.Input((28, 28)), keras.Input((28, 28))
    product = keras.layers.Multiply()([encoder(first), encoder(second)])
    probability = keras.layers.Dense(1, activation="sigmoid", name="match")(product)
    model = keras.Model(inputs=[first, second], outputs=probability)
    return model
''',
            "concatenated, then a hidden layer that learns to compare": '''
def build_siamese(encoder):
    x1 = keras.layers.Input(shape=(28, 28))
    x2 = keras.layers.Input(shape=(28, 28))
    both = keras.layers.concatenate([encoder(x1), encoder(x2)])
    hidden = keras.layers.Dense(32, activation="relu")(both)
    out = keras.layers.Dense(1, activation="sigmoid")(hidden)
    return keras.Model(inputs=[x1, x2], outputs=out)
''',
        },
        wrong={
            "a second encoder built alike, with weights of its own": _siamese(encode=(
                "twin = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
                "                              keras.layers.Dense(32, activation=\"relu\")])\n"
                "    a, b = encoder(left), twin(right)")),
            "difference without abs": _siamese(combine="distance = keras.layers.Subtract()([a, b])"),
            "concatenated encodings straight into the sigmoid": _siamese(
                combine="distance = keras.layers.Concatenate()([a, b])"),
            "added encodings": _siamese(combine="distance = keras.layers.Add()([a, b])"),
            "relu output": _siamese(activation="relu"),
        },
    ),
    "w5_gradient_norm_recorder": Exercise(
        correct={
            "filter trainable variables, numpy norm": '''
class GradientNormRecorder(keras.callbacks.Callback):
    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images, labels

    def on_train_begin(self, logs=None):
        self.norms = dict()

    def on_epoch_end(self, epoch, logs=None):
        kernels = {id(layer.kernel): layer.name for layer in self.model.layers if getattr(layer, "kernel", None) is not None}
        variables = [v for v in self.model.trainable_variables if id(v) in kernels]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                self.labels, self.model(self.images, training=False)))
        for variable, gradient in zip(variables, tape.gradient(loss, variables)):
            self.norms.setdefault(kernels[id(variable)], []).append(float(np.linalg.norm(gradient.numpy())))
''',
            "a loss object made once": _recorder(
                init="self.loss = keras.losses.SparseCategoricalCrossentropy()",
                loss="self.loss(self.labels, probabilities)"),
        },
        wrong={
            "dict made once in __init__": _recorder(init="self.norms = {}", begin="pass"),
            "only the last layer": _recorder(only_last="[-1:]"),
            "summed loss": _recorder(loss=(
                "tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(self.labels, probabilities))")),
            "norm of the kernel, not its gradient": _recorder(measured="layer.kernel"),
        },
    ),
    "w5_deep_choice": Exercise(
        correct={
            "tanh, Glorot": 'deep_choice = {"activation": "tanh", "kernel_initializer": "glorot_uniform"}\n',
            "SELU, LeCun normal": 'deep_choice = dict(kernel_initializer="lecun_normal", activation="selu")\n',
            "ELU, a He-uniform object": (
                'deep_choice = {"activation": "elu", "kernel_initializer": keras.initializers.HeUniform()}\n'),
            "leaky ReLU, He normal": (
                'deep_choice = {"activation": "leaky_relu", "kernel_initializer": "he_normal"}\n'),
        },
        wrong={
            "sigmoid, Glorot": 'deep_choice = {"activation": "sigmoid", "kernel_initializer": "glorot_uniform"}\n',
            "sigmoid, He: the initializer alone is not enough": (
                'deep_choice = {"activation": "sigmoid", "kernel_initializer": "he_normal"}\n'),
            "tanh, tiny weights": ('deep_choice = {"activation": "tanh", '
                                   '"kernel_initializer": keras.initializers.RandomNormal(stddev=0.01)}\n'),
            "ReLU, huge weights": ('deep_choice = {"activation": "relu", '
                                   '"kernel_initializer": keras.initializers.RandomNormal(stddev=1.0)}\n'),
            "ReLU, zeros": 'deep_choice = {"activation": "relu", "kernel_initializer": "zeros"}\n',
            "linear: one linear model": (
                'deep_choice = {"activation": "linear", "kernel_initializer": "glorot_uniform"}\n'),
            "an activation of its own": (
                'deep_choice = {"activation": lambda x: keras.activations.relu(x), "kernel_initializer": "he_normal"}\n'),
        },
    ),
    "w5_concept_kernel_layout": concept(
        "keras_kernel_shape", correct=["(5, 3, 3, 32)", "[5, 3, 3, 32]"],
        wrong=["(32, 3, 5, 3)", "(3, 5, 3, 32)", "(None, 5, 3, 3, 32)", "(5, 3, 32)", '"5x3x3x32"']),
    "w5_concept_torch_layout": concept(
        "torch_weight_shape", correct=["(32, 3, 5, 3)", "[32, 3, 5, 3]"],
        wrong=["(5, 3, 3, 32)", "(32, 3, 3, 5)", "(3, 32, 5, 3)", "(32, 5, 3, 3)"]),
    "w5_concept_lstm_params": concept(
        "lstm_parameters", correct=["1600", "4 * (16 * (8 + 16) + 16)"],
        wrong=["400", "1536", "1088", "1600.5", "(8 + 16 + 1) * 16"]),
    "w5_weight_norm_dense": Exercise(
        correct={
            "tf ops": _WEIGHT_NORM.format(build_g="self.g.assign(tf.norm(self.v, axis=0))",
                                          kernel="self.g * self.v / tf.norm(self.v, axis=0)"),
            "keras.ops and a norm initializer": '''
class WeightNormDense(keras.layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.v = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        norms = keras.ops.sqrt(keras.ops.sum(keras.ops.square(self.v), axis=0))
        self.g = self.add_weight(shape=(self.units,), initializer=keras.initializers.Constant(
            keras.ops.convert_to_numpy(norms)))
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        norms = keras.ops.sqrt(keras.ops.sum(keras.ops.square(self.v), axis=0))
        return self.activation(keras.ops.matmul(inputs, self.v * (self.g / norms)) + self.b)
''',
        },
        wrong={
            "g starts at one": _WEIGHT_NORM.format(build_g="pass",
                                                   kernel="self.g * self.v / tf.norm(self.v, axis=0)"),
            "norms of the rows": _WEIGHT_NORM.format(
                build_g="self.g.assign(tf.norm(self.v, axis=1)[:self.units])",
                kernel="self.g * self.v / tf.norm(self.v, axis=1, keepdims=True)"),
            "no normalisation": _WEIGHT_NORM.format(build_g="self.g.assign(tf.norm(self.v, axis=0))",
                                                    kernel="self.v"),
            "one norm for the whole kernel": _WEIGHT_NORM.format(
                build_g="self.g.assign(tf.norm(self.v, axis=0))",
                kernel="self.g * self.v / tf.norm(self.v)"),
            "g not trainable": _WEIGHT_NORM.format(
                build_g="self.g = tf.Variable(tf.norm(self.v, axis=0), trainable=False)",
                kernel="self.g * self.v / tf.norm(self.v, axis=0)"),
        },
    ),
}
