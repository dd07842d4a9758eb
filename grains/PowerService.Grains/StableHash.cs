namespace PowerService.Grains;

/// <summary>FNV-1a, 64 bits, over a string's UTF-16 code units: the same in every process (string.GetHashCode is
/// not), so it may be stored and compared across restarts.</summary>
internal static class StableHash
{
    public static ulong Of(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
}
