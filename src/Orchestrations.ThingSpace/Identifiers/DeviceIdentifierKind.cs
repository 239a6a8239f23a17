namespace Orchestrations.ThingSpace.Identifiers;

/// <summary>The kinds of device identifier ThingSpace accepts (contract §5.3).</summary>
public enum DeviceIdentifierKind
{
    /// <summary>Electronic serial number: 11 decimal digits.</summary>
    Esn,

    /// <summary>Mobile equipment identifier: 14 hexadecimal characters.</summary>
    Meid,

    /// <summary>International mobile equipment identity: 15 digits, Luhn check digit.</summary>
    Imei,

    /// <summary>SIM card number: 19 or 20 digits, Luhn check digit.</summary>
    Iccid,

    /// <summary>Mobile directory number: 10 digits.</summary>
    Mdn,

    /// <summary>MSISDN: 11 digits (1 + MDN).</summary>
    Msisdn,

    /// <summary>Embedded UICC identifier: 32 digits.</summary>
    Eid,

    /// <summary>Mobile identification number: 10 digits.</summary>
    Min,

    /// <summary>International mobile subscriber identity: 15 digits.</summary>
    Imsi,
}
