namespace PowerService.Runtime;

/// <summary>Identity of a grain: its grain type name and its string key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";

    /// <summary>The partition this key belongs to. Stable across processes and machines (FNV-1a over the
    /// key's UTF-16 code units), because reminders and, later, silo ownership are stored per partition.</summary>
    public int Partition(int partitionCount) => (int)(StableHash(Key) % (uint)partitionCount);

    public static uint StableHash(string key)
    {
        uint hash = 2166136261;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash;
    }
}
