"""On the GPU benchmark machine: exports a random-weight torchvision ResNet-50 for bench/gpu-cam.ts and times
PyTorch CUDA's forward and its Grad-CAM at the four stages (forward + autograd.grad to the hooked
activations), the anchor issue 20 compares against. Prints one JSON line. Not used at test or run time."""
import json, sys, time
import torch, torchvision

out = sys.argv[1]
m = torchvision.models.resnet50().eval()
x = torch.randn(1, 3, 224, 224)
torch.onnx.export(m, x, out, dynamo=False, opset_version=17, input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})  # gpu-stats feeds batches
res = {'exported': out}
if torch.cuda.is_available():
    m = m.cuda(); x = x.cuda()
    feats = {}
    hooks = [getattr(m, f'layer{i}').register_forward_hook(lambda mod, i, o, k=i: feats.__setitem__(k, o)) for i in range(1, 5)]
    def med(f, n=50):
        for _ in range(5): f()
        torch.cuda.synchronize(); t = []
        for _ in range(n):
            t0 = time.perf_counter(); f(); torch.cuda.synchronize(); t.append((time.perf_counter() - t0) * 1000)
        t.sort(); return t[len(t) // 2]
    with torch.no_grad():
        res['torch_forward_ms'] = med(lambda: m(x))
    def gradcam():
        y = m(x)
        acts = [feats[i] for i in range(1, 5)]
        grads = torch.autograd.grad(y[0, y[0].argmax()], acts)
        return [torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1)) for a, g in zip(acts, grads)]
    res['torch_gradcam4_ms'] = med(gradcam)
    for b in (32, 64):
        xb = torch.randn(b, 3, 224, 224, device='cuda')
        with torch.no_grad():
            res[f'torch_images_per_s_b{b}'] = b * 1000 / med(lambda: m(xb), 20)
print(json.dumps(res))
