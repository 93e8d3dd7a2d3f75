// Test classes run one at a time. TorchSharp 0.107 passes temporary Scalars to native calls without keeping them alive,
// so a garbage collection started by a test running in parallel can free one mid-call (see Tessera.Nn.TorchGuard);
// library code guards its own training steps, but tests that call torch directly cannot all be guarded.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
