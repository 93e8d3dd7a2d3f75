"""Seconds per CoSTA training step (batch 128, 48x48, K 30) and per 10k-gene feature pass in PyTorch, for comparison with
Tessera. Usage: /usr/bin/python3 pytorch_step.py [THREADS] (Debian python3-torch)."""
import torch, time, sys
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv)>1 else 2)
class Net(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.l1=torch.nn.Sequential(torch.nn.Conv2d(1,128,5,2,1),torch.nn.BatchNorm2d(128),torch.nn.ReLU(),torch.nn.MaxPool2d(2))
        s.l2=torch.nn.Sequential(torch.nn.Conv2d(128,128,5,1,1),torch.nn.BatchNorm2d(128),torch.nn.ReLU(),torch.nn.MaxPool2d(2))
        s.l3=torch.nn.Sequential(torch.nn.Conv2d(128,128,5,1,1),torch.nn.BatchNorm2d(128),torch.nn.Tanh(),torch.nn.MaxPool2d(2))
        s.fc=torch.nn.Linear(128,30)
    def feat(s,x): return torch.nn.functional.normalize(s.l3(s.l2(s.l1(x))).flatten(1),dim=1)
    def forward(s,x): return s.fc(s.feat(x))
net=Net(); opt=torch.optim.SGD(net.parameters(),0.01,0.9)
x=torch.randn(128,1,48,48); y=torch.softmax(torch.randn(128,30),1)
for i in range(3):
    loss=-(y*torch.log_softmax(net(x),1)).sum(1).mean(); opt.zero_grad(); loss.backward(); opt.step()
t=time.time()
for i in range(10):
    loss=-(y*torch.log_softmax(net(x),1)).sum(1).mean(); opt.zero_grad(); loss.backward(); opt.step()
print("train step", (time.time()-t)/10)
xb=torch.randn(1024,1,48,48)
with torch.no_grad():
    net(xb); t=time.time(); 
    for i in range(2): net.feat(xb)
print("feature chunk 1024", (time.time()-t)/2, "-> 10k genes", (time.time()-t)/2*10000/1024)
print(torch.__version__, torch.backends.mkldnn.is_available(), torch.get_num_threads())
