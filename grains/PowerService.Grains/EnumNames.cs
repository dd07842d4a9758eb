namespace PowerService.Grains;

/// <summary>Reads an enum from text from outside (a request field, a CSV cell) by its name only. <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/>
/// also takes numbers ("5", " 5", "+5"), comma lists ("Urban,Rural", which it ORs into a third value) and padding;
/// none of those is a name a person chose.</summary>
public static class EnumNames
{
    /// <summary>True when <paramref name="text"/> is exactly one of <typeparamref name="TEnum"/>'s names, any case.</summary>
    public static bool TryParse<TEnum>(string text, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var name in Enum.GetNames<TEnum>())
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                value = Enum.Parse<TEnum>(name);
                return true;
            }
        }
        value = default;
        return false;
    }
}
