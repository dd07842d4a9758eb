using System.Runtime;

namespace PowerService.LoadTests.Harness;

internal static class Heap
{
    /// <summary>Live managed bytes after full, blocking, compacting collections (large object heap included), so two
    /// readings differ only by what stayed reachable between them.</summary>
    public static long LiveBytes()
    {
        for (var i = 0; i < 2; i++)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
