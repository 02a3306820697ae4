import { describe, expect, it } from 'vitest';
import { EngineError, oneLine, runtimeMessage } from '../../../src-main/engine/errors';

describe('errors a user reads', () => {
  it('are one line: libvips repeats, colour codes and blank lines are dropped', () => {
    const vips =
      'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image\nVipsJpeg: JPEG datastream contains no image\nVipsJpeg: premature end of JPEG image\nVipsJpeg: JPEG datastream contains no image\n';
    expect(oneLine(vips)).toBe(
      'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image; VipsJpeg: JPEG datastream contains no image; VipsJpeg: premature end of JPEG image',
    );
    expect(new EngineError('bad-model', '\u001b[0;93mwarning\u001b[m\n\nsecond').message).toBe('warning; second');
  });

  it("drop onnxruntime's source location and C++ signature, and its long explanations", () => {
    const error = new Error(
      '/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, int) ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Opset 99 is under development and support for this is limited. The operator schemas and or other functionality may change before next ONNX release and in this case ONNX Runtime will not guarantee backward compatibility. Current official support for domain ai.onnx is till opset 26.\nmore',
    );
    expect(runtimeMessage(error)).toBe(
      'ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Opset 99 is under development and support for this is limited. …',
    );
    expect(runtimeMessage(new Error('Input channels C is not equal to kernel channels * group.'))).toBe(
      'Input channels C is not equal to kernel channels * group.',
    );
  });
});
