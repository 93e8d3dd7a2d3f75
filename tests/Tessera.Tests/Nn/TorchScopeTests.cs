using Tessera.Nn;
using static TorchSharp.torch;

namespace Tessera.Tests.Nn;

public class TorchScopeTests
{
    [Fact]
    public void Enter_SetsThreads_AndRestoresThemOnExit()
    {
        int before = get_num_threads();
        int other = before == 1 ? 2 : 1;
        using (TorchScope.Enter(other))
        {
            Assert.Equal(other, get_num_threads());
            using (TorchScope.Enter()) Assert.Equal(other, get_num_threads()); // nested, same thread: re-enters, keeps the count
            Assert.Equal(other, get_num_threads());
        }
        Assert.Equal(before, get_num_threads());
    }

    [Fact]
    public void Enter_SerialisesScopesOfDifferentThreads()
    {
        int inside = 0, maxInside = 0;
        var gate = new object();
        void Body()
        {
            using var s = TorchScope.Enter();
            lock (gate) { inside++; maxInside = Math.Max(maxInside, inside); }
            Thread.Sleep(30);
            lock (gate) inside--;
        }
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(Body)).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(1, maxInside);
    }

    [Fact]
    public void Enter_RejectsNonPositiveThreads()
    {
        var e = Assert.Throws<TesseraException>(() => TorchScope.Enter(0));
        Assert.Equal("Threads must be at least 1 but is 0", e.Message);
    }
}
